"""The secret tokens of personal, open and test links."""

from __future__ import annotations

import secrets

TOKEN_BYTES = 24  # 192 bits: personal links cannot be guessed


def new_token() -> str:
    """A fresh link token, URL-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)
