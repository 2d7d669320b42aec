"""Freed memory goes back to the operating system: after responses (at most every 30 s) and
after every export job (app/platform/memory.py).

The last test shows on a real heap why it is needed: blocks freed between blocks still in
use stay resident until ``malloc_trim`` hands their pages back.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

from app.models.users import Role
from app.platform import memory
from app.platform.memory import Trimmer, trimmer_of
from bench._server import ROOT
from tests.support.files import prepare_file


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_trim_is_due_once_per_interval():
    trim, ticks = Counter(), Ticks()
    trimmer = Trimmer(every=30, trim=trim, clock=ticks)
    assert not trimmer.due()
    ticks.now += 29.9
    assert not trimmer.due()
    ticks.now += 0.1
    assert trimmer.due()
    assert not trimmer.due()  # the first caller takes it; the next one waits again
    ticks.now += 30
    trimmer.now()  # an export's trim restarts the wait
    assert trim.calls == 1
    assert not trimmer.due()
    ticks.now += 30
    assert trimmer.due()


def test_without_malloc_trim_nothing_is_done():
    trimmer = Trimmer(every=0, trim=None)
    assert not trimmer.due()
    trimmer.now()  # no error where the C library has no malloc_trim


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_the_server_finds_malloc_trim_on_glibc():
    assert memory.malloc_trim is not None
    memory.malloc_trim()


def test_the_heap_is_trimmed_after_a_response_is_sent_when_due(app, client, monkeypatch):
    trim, ticks = Counter(), Ticks()
    trimmer = trimmer_of(app)
    monkeypatch.setattr(trimmer, "trim", trim)
    monkeypatch.setattr(trimmer, "clock", ticks)
    monkeypatch.setattr(trimmer, "every", 30.0)
    trimmer.now()  # the wait starts at the fake clock's time
    trim.calls = 0
    with client.get("/login") as response:
        assert response.status_code == 200
    assert trim.calls == 0  # not due yet
    ticks.now += 30
    with client.get("/login") as response:
        assert response.status_code == 200
        assert trim.calls == 0  # the client has not finished reading the response
    assert trim.calls == 1  # once it was closed
    with client.get("/login"):
        pass
    assert trim.calls == 1


def test_the_heap_is_trimmed_after_each_export_job(
    app, client, login_as, make_fieldwork, monkeypatch
):
    trim = Counter()
    trimmer = trimmer_of(app)
    monkeypatch.setattr(trimmer, "trim", trim)
    monkeypatch.setattr(trimmer, "every", 3600.0)  # no trim after responses in this test
    login_as(Role.ANALYST)
    fieldwork_id = make_fieldwork(units=[("U-1", "Instytucja", {})])
    prepare_file(client, fieldwork_id)
    exports = app.extensions["ankieta.export_runner"]
    exports.wait()  # the worker trims once run_job has returned, just after "done"
    assert trim.calls == 1
    prepare_file(client, fieldwork_id, kind="csv")
    exports.wait()
    assert trim.calls == 2


FRAGMENTED_HEAP = textwrap.dedent(
    """
    import os
    from app.platform.memory import malloc_trim
    from bench._server import rss_kib

    def rss_mib():
        return rss_kib(os.getpid()) / 1024

    # 2,000 blocks of 60 kB (below glibc's mmap threshold, so they come from the heap),
    # every tenth kept: the freed ones lie between blocks in use and cannot be given back
    # from the top of the heap
    blocks = [bytearray(60_000) for _ in range(2_000)]
    kept = blocks[::10]
    del blocks
    before = rss_mib()
    malloc_trim()
    after = rss_mib()
    print(f"{before:.1f} {after:.1f} {len(kept)}")
    """
)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_malloc_trim_gives_back_memory_freed_between_blocks_in_use():
    done = subprocess.run(
        [sys.executable, "-c", FRAGMENTED_HEAP],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    before, after, _kept = (float(value) for value in done.stdout.split())
    # about 108 MB of the 120 MB was freed; without the trim it stays resident
    assert before - after > 80, (before, after)
