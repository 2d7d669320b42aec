"""Importing a 100,000-row sample: time, peak memory, and how long a login waits meanwhile.

A 100,000-row CSV sample (about 9.6 MB: id, name, type, subregion, powiat, gmina, e-mail,
phone, one variable) is imported into an empty fieldwork of a scratch database, the way the
web page imports a large file: ``app.fieldwork.imports.run`` checks the whole file, then
stores it 1,000 rows per transaction. The import runs in a fresh child process, so its peak
resident memory (``VmHWM``) is its own. Meanwhile this process does what a login does to
the database every 0.2 s (a writing transaction that updates a user row) and records how
long each waited. (``ankieta sample import`` runs the same check and batches.)

Goal (issue 16): under 60 s and under 200 MB; logins never wait long (SQLite's busy
timeout, after which a login fails with "database is locked", is 30 s).

    .venv/bin/python bench/sample_import.py [--rows 100000] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import update  # noqa: E402

from bench._load import sample_csv  # noqa: E402 - needs the path above
from bench._server import scratch_database  # noqa: E402

GOAL_SECONDS, GOAL_MB = 60, 200


def _peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def child(url: str, path: str) -> None:
    """Import the file at ``path`` into fieldwork 1 as user 1; print the figures as JSON."""
    from app import create_app
    from app.fieldwork import imports
    from app.models.fieldwork import Fieldwork
    from app.models.jobs import SampleImport

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 40})
    database = app.extensions["ankieta.db"]
    data = Path(path).read_bytes()
    before_kib = _peak_kib()
    started = time.perf_counter()
    with app.app_context():
        with database.session() as session:
            job = imports.start(
                session, session.get(Fieldwork, 1), 1, data, "proba.csv", datetime.now(UTC)
            )
            job_id = job.id
        imports.run(database, job_id, lambda: datetime.now(UTC))
        with database.session() as session:
            job = session.get(SampleImport, job_id)
            imported = job.done if job.state == "done" else -1
    print(
        json.dumps(
            {
                "seconds": round(time.perf_counter() - started, 1),
                "peak_mb": round(_peak_kib() / 1024, 1),
                "before_mb": round(before_kib / 1024, 1),
                "imported": imported,
            }
        )
    )


def prepare(url: str) -> None:
    """A user (id 1) and an empty draft fieldwork (id 1)."""
    from app import create_app
    from app.fieldwork import services as fieldwork_services
    from app.platform.accounts import create_user
    from app.surveys import services as survey_services

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 40})
    with app.app_context(), app.extensions["ankieta.db"].session() as session:
        create_user(session, "analityk", "analyst", password="bench-password-1")  # noqa: S106
        loaded = survey_services.load_file(session, ROOT / "surveys" / "jst_gmina.yaml")
        fieldwork_services.create_fieldwork(session, loaded.survey.code, "Duża próba")
    app.extensions["ankieta.db"].dispose()


def probe_logins(url: str, stop: threading.Event, waits: list[float]) -> None:
    """Every 0.2 s, a login's write (a user row updated in a writing transaction)."""
    from app.models.users import User
    from app.platform.db import Database

    database = Database(url)
    try:
        while not stop.wait(0.2):
            started = time.perf_counter()
            with database.session() as session:
                session.execute(
                    update(User).where(User.id == 1).values(last_login_at=datetime.now(UTC))
                )
            waits.append(time.perf_counter() - started)
    finally:
        database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--child", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1])
        return
    data = sample_csv(args.rows)
    with scratch_database(args.backend) as url:
        prepare(url)
        with tempfile.NamedTemporaryFile(suffix=".csv") as handle:
            handle.write(data)
            handle.flush()
            waits: list[float] = []
            stop = threading.Event()
            prober = threading.Thread(target=probe_logins, args=(url, stop, waits))
            prober.start()
            command = [sys.executable, __file__, "--child", url, handle.name]
            try:
                result = subprocess.run(command, capture_output=True, text=True, check=False)
            finally:
                stop.set()
                prober.join()
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        raise SystemExit(1)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"{args.rows} rows, {len(data) / 1e6:.1f} MB CSV, {args.backend}, background import")
    print(f"  imported:            {figures['imported']}")
    print(f"  time:                {figures['seconds']} s   (goal < {GOAL_SECONDS} s)")
    print(
        f"  peak memory (VmHWM): {figures['peak_mb']} MB   (goal < {GOAL_MB} MB; "
        f"{figures['before_mb']} MB before the import began)"
    )
    if waits:
        print(
            f"  login writes meanwhile: {len(waits)}, longest wait {max(waits):.2f} s, "
            f"median {sorted(waits)[len(waits) // 2]:.3f} s"
        )


if __name__ == "__main__":
    main()
