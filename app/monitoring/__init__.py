"""Monitoring: the plan's indicators against their targets, per fieldwork, on screen."""
