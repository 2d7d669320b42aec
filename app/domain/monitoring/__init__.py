"""The monitoring plan and its indicators (pure: no Flask, no database)."""
