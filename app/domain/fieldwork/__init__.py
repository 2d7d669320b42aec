"""Fieldwork rules: call outcomes and AAPOR codes, the calling queue, sample files, mail."""
