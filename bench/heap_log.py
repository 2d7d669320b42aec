"""A gunicorn configuration that logs where each worker's memory is, once a minute.

Use it to find out why a worker's RSS grows (docs/development.md, "Memory")::

    GUNICORN_CMD_ARGS="--config bench/heap_log.py" HEAP_LOG_DIR=/tmp/heap \\
        .venv/bin/python bench/soak.py --minutes 10

Every worker writes ``HEAP_LOG_DIR/worker-PID.log`` (default: the system's temporary
directory), one line a minute::

    t=540 rss=108.2 heap=29.2 heap_used=21.9 heap_free=7.4 mmapped=2.3 py_arenas=64 \\
        py_used=46.1 objects=143443

- ``rss``: the worker's resident memory (MiB);
- ``heap``, ``heap_used``, ``heap_free``, ``mmapped``: glibc's ``mallinfo2`` (MiB): what C
  code and Python's larger objects use. Growing ``heap_used`` with flat Python figures
  points at a C library (libpq's buffers were one); growing ``heap_free`` is fragmentation;
- ``py_arenas``, ``py_used``: Python's small-object allocator (1 MiB arenas, MiB in use);
- ``objects``: objects the garbage collector tracks (a leak of Python objects grows it).

Linux with glibc only. Not for production: it writes to the process's stderr descriptor
for a moment each minute.
"""

from __future__ import annotations

import ctypes
import gc
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

EVERY = 60.0
MIB = 1 << 20


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _pymalloc() -> tuple[int, float]:
    """Python's arenas in use and MiB in allocated blocks (from sys._debugmallocstats)."""
    with tempfile.TemporaryFile() as capture:
        saved = os.dup(2)
        try:
            os.dup2(capture.fileno(), 2)  # _debugmallocstats writes to the C stderr
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        text = capture.read().decode(errors="replace")

    def number(label: str) -> int:
        found = re.search(re.escape(label) + r"\s*=\s*([\d,]+)", text)
        return int(found.group(1).replace(",", "")) if found else -1

    return number("# arenas allocated current"), number("# bytes in allocated blocks") / MIB


def _log_forever(path: Path) -> None:
    from bench._server import rss_kib  # in the worker, once the app has put ROOT on the path

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    started = time.monotonic()
    with path.open("w", buffering=1) as out:
        while True:
            time.sleep(EVERY)
            heap = libc.mallinfo2()
            arenas, used = _pymalloc()
            out.write(
                f"t={time.monotonic() - started:.0f} rss={(rss_kib(os.getpid()) or 0) / 1024:.1f} "
                f"heap={heap.arena / MIB:.1f} heap_used={heap.uordblks / MIB:.1f} "
                f"heap_free={heap.fordblks / MIB:.1f} mmapped={heap.hblkhd / MIB:.1f} "
                f"py_arenas={arenas} py_used={used:.1f} objects={len(gc.get_objects())}\n"
            )


def post_fork(_server: object, _worker: object) -> None:
    """gunicorn's hook, in each new worker: start the logging thread."""
    directory = Path(os.environ.get("HEAP_LOG_DIR") or tempfile.gettempdir())
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"worker-{os.getpid()}.log"
    threading.Thread(target=_log_forever, args=(path,), name="heap-log", daemon=True).start()
