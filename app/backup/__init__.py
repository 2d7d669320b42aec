"""Backups of the database and their restore: the service and its commands."""
