"""The home pages, the language switch, the health check and the error pages."""
