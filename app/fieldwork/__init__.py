"""Fieldwork set-up: creating a fieldwork, its state, the sample and the personal links."""
