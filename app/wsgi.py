"""The WSGI entry point for gunicorn: ``gunicorn 'app.wsgi:app'``.

Unlike the factory, this checks the configuration and the database at start, so that a
mistake stops the server with one line saying what to fix instead of failing every request.
"""

from __future__ import annotations

import sys

from app import create_app
from app.platform.config import ConfigError
from app.platform.startup import check_database

try:
    app = create_app()
    check_database(app)
except ConfigError as exc:
    sys.stderr.write(f"ankieta: configuration error: {exc}\n")
    raise SystemExit(4) from None
