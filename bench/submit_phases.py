"""Benchmark: where a respondent's submit spends its server CPU, phase by phase.

Run it from the repository root: ``.venv/bin/python bench/submit_phases.py [--submits 800]``.

The same in-process submits as ``bench/bare_page.py`` (POST a page, GET the next, whole
questionnaires of ``surveys/monitoring_cis_kis.yaml``, SQLite), with the main steps of a
request wrapped in timers (CPU time, ``time.process_time``): resolving the link, the POST's
decision (validation, save, completion), rendering, Flask's session. It prints each step's
milliseconds per submit (steps nest: "decide" includes "save_page" and "complete"), then
the bare page's total and session figures, and the load average. The wrapped steps count
every request, also the untimed ones that open a link and press Start (0.4 a submit), so
"whole requests" is a little more than the measured part. Absolute figures move with
the machine's load; compare two trees by running this in each, in turn.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import scratch_database  # noqa: E402
from bench.bare_page import (  # noqa: E402
    cpu_ankieta,
    cpu_bare,
    create_bare,
    load_average,
    seed_ankieta,
    seed_bare,
)

spent: collections.Counter[str] = collections.Counter()
calls: collections.Counter[str] = collections.Counter()


def timed(owner: Any, name: str, label: str | None = None) -> None:
    """Replace ``owner.name`` by a wrapper adding its CPU time to ``spent[label]``."""
    original = getattr(owner, name)
    label = label or name

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - started
            calls[label] += 1

    setattr(owner, name, wrapper)


def instrument() -> None:
    import flask
    import flask.sessions
    import flask_wtf.csrf

    import app.interview.service as service
    import app.interview.submit as submit
    import app.respond.routes as routes
    import app.respond.services as respond

    timed(respond, "resolve")
    timed(routes, "render_template")
    timed(routes, "_interview")
    timed(submit, "decide")
    timed(submit, "save_page")
    timed(submit, "submit", "complete")
    timed(service.Interview, "of", "Interview.of")
    cookies = flask.sessions.SecureCookieSessionInterface
    timed(cookies, "open_session")
    timed(cookies, "save_session")
    timed(flask_wtf.csrf.CSRFProtect, "protect", "csrf protect")
    timed(flask.Flask, "wsgi_app", "whole requests")


def report(title: str, per_submit_ms: float, submits: int) -> None:
    print(f"{title}: {per_submit_ms:.2f} ms CPU per submit (measured part) [load {load_average()}]")
    for label, seconds in spent.most_common():
        print(
            f"  {label:16s} {seconds / submits * 1000:6.3f} ms per submit "
            f"({calls[label] / submits:.2f} calls)"
        )
    spent.clear()
    calls.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submits", type=int, default=800)
    args = parser.parse_args()
    from app import create_app

    with scratch_database("sqlite") as url:
        tokens = seed_ankieta(url, args.submits // 3 + 100)
        bare_tokens = seed_bare(url, 20)
        secret = os.urandom(32).hex()
        ankieta = create_app({"DATABASE_URL": url, "SECRET_KEY": secret})
        bare = create_bare(url, secret)
        cpu_ankieta(ankieta, tokens, 30)  # warm up
        cpu_bare(bare, bare_tokens, 30)
        instrument()
        figures = cpu_ankieta(ankieta, tokens, args.submits)
        report("ankieta", figures.per_submit_ms, figures.submits)
        figures = cpu_bare(bare, bare_tokens, args.submits)
        report("bare page", figures.per_submit_ms, figures.submits)


if __name__ == "__main__":
    main()
