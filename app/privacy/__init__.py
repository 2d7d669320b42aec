"""Erasure and retention of personal data (RODO): the service and its commands."""
