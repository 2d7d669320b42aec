"""Errors of the REST API as RFC 9457 problem details (``application/problem+json``).

A problem says what went wrong in a ``title`` (the HTTP status's phrase), a ``detail``
for people (in the request's language), and, for a refused body or sample, ``errors``:
one entry per thing wrong, with the row and column it is in when there is one.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from flask import Response

PROBLEM_MIMETYPE = "application/problem+json"
API_PREFIX = "/api/"


def problem(
    status: int,
    detail: str = "",
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem-details response with ``status``."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    response = Response(
        json.dumps(body, ensure_ascii=False, default=str), status=status, mimetype=PROBLEM_MIMETYPE
    )
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)
