"""Signals by which features hear of each other's events without importing each other.

A feature that needs another to act sends one of these; the interested feature connects
its receiver when its blueprint module is imported (see app/cati/receivers.py). Receivers
run in the sender's request and transaction (the same database session).
"""

from __future__ import annotations

from flask.signals import Namespace

_signals = Namespace()

# A response was submitted complete. Sender: the Response, or its ResponseRow (the record
# a respondent's pages read); keywords: session (the sqlalchemy Session it was saved in),
# mode ("web" or "phone") and now (datetime).
response_completed = _signals.signal("response-completed")

# A user is logging out. Sender: the user's id (int); keyword: session.
user_logged_out = _signals.signal("user-logged-out")
