"""Fieldwork by e-mail: invitations, reminders, opt-outs and their tracking."""
