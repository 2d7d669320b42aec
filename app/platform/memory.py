"""Give memory the server has freed back to the operating system.

glibc's ``malloc`` keeps freed blocks inside its heaps for reuse. In a long-running worker
(requests interleaved with an export building a workbook in a background thread) the free
blocks are scattered between blocks still in use, so the heap can only give back its top
and the worker's resident memory creeps up by a few MiB every minute although Python's own
objects stay the same size (``bench/soak.py`` with ``bench/heap_log.py``: the free part of
the heap grew all the time, see docs/development.md, "Memory").
``malloc_trim(0)`` returns every whole free page of every heap to the system; it takes
0.1-1 ms on a worker's heap, so it runs at most every ``TRIM_EVERY`` seconds, after a
response has been sent, and after each export job. Where the C library has no
``malloc_trim`` (musl, macOS) nothing is done.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable
from typing import cast

from flask import Flask, Response

TRIM_EVERY = 30.0  # seconds


def _find_malloc_trim() -> Callable[[], None] | None:
    try:
        function = ctypes.CDLL(None).malloc_trim  # the C library this process runs on
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int

    def trim() -> None:
        function(0)

    return trim


malloc_trim = _find_malloc_trim()


class Trimmer:
    """Trims the heaps after a response at most every ``every`` seconds, or when told to."""

    def __init__(
        self,
        every: float = TRIM_EVERY,
        trim: Callable[[], None] | None = malloc_trim,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.every, self.trim, self.clock = every, trim, clock
        self._last = clock()
        self._lock = threading.Lock()

    def due(self) -> bool:
        """True (once) when the last trim is at least ``every`` seconds old."""
        if self.trim is None:
            return False
        with self._lock:
            now = self.clock()
            if now - self._last < self.every:
                return False
            self._last = now
            return True

    def now(self) -> None:
        """Trim now (after a large piece of work such as an export), and restart the wait."""
        if self.trim is not None:
            with self._lock:
                self._last = self.clock()
            self.trim()

    def after_request(self, response: Response) -> Response:
        """Trim once this response has been sent (the client does not wait for it)."""
        if self.trim is not None and self.due():
            response.call_on_close(self.trim)
        return response


def init_app(app: Flask) -> Trimmer:
    trimmer = Trimmer()
    app.extensions["ankieta.memory"] = trimmer
    app.after_request(trimmer.after_request)
    return trimmer


def trimmer_of(app: Flask) -> Trimmer:
    return cast(Trimmer, app.extensions["ankieta.memory"])
