"""The REST API's own endpoints (the token's user, surveys, CATI cases and calls).

The machinery every endpoint shares is app.platform.api; the fieldwork and export endpoints
live in app/fieldwork/api.py and app/exports/api.py, on the same blueprint.
"""
