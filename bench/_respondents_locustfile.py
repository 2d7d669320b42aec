"""Locust users for bench/capacity.py: respondents filling monitoring_cis_kis with pauses.

Each user takes a personal link from the file named by ``ANKIETA_BENCH_TOKENS`` (one per
line), opens it, starts, and then for every page: reads it for 5–20 s (``wait_time``),
posts the answers and follows the redirect to the next page, until the thank-you page;
then it takes the next link. Every request is named by its kind (not its URL), so the
statistics are per kind of page request. An answer other than the expected status, or a
page refused (its answers found wrong), is a failure.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import date
from pathlib import Path

from locust import HttpUser, between, task
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._load import csrf_token, fill_form  # noqa: E402 - needs the path above

TOKENS = Path(os.environ["ANKIETA_BENCH_TOKENS"]).read_text().split()
TOKENS.reverse()
TODAY = date.today()
_PAGE_ID = re.compile(r"/p/[^/]+$")


class Respondent(HttpUser):
    wait_time = between(5, 20)  # reading and answering one page

    def on_start(self) -> None:
        self.location: str | None = None
        self.page = ""
        self.variant = len(TOKENS) % 2

    def _open_new_link(self) -> None:
        if not TOKENS:
            raise StopUser()
        token = TOKENS.pop()
        self.client.cookies.clear()
        with self.client.get(f"/r/{token}", name="start page", catch_response=True) as got:
            if got.status_code != 200:
                got.failure(f"HTTP {got.status_code}")
                return
            csrf = csrf_token(got.text)
        with self.client.post(
            f"/r/{token}/start",
            data={"csrf_token": csrf},
            name="POST start",
            allow_redirects=False,
            catch_response=True,
        ) as started:
            if started.status_code not in (302, 303):
                started.failure(f"HTTP {started.status_code}")
                return
            self._get_page(started.headers["Location"])

    def _get_page(self, location: str) -> None:
        with self.client.get(location, name="GET page", catch_response=True) as got:
            if got.status_code != 200:
                got.failure(f"HTTP {got.status_code}")
                self.location = None
                return
            self.location, self.page = location, got.text

    @task
    def answer_a_page(self) -> None:
        if self.location is None:
            self._open_new_link()
            return
        form, _ = fill_form(self.page, self.variant, TODAY)
        with self.client.post(
            self.location,
            data=form,
            name="POST page",
            allow_redirects=False,
            catch_response=True,
        ) as posted:
            if posted.status_code not in (302, 303):
                posted.failure(f"HTTP {posted.status_code}")
                self.location = None
                return
            target = posted.headers["Location"]
        if target.endswith("/done"):
            with self.client.get(target, name="thank-you page", catch_response=True) as done:
                if done.status_code != 200:
                    done.failure(f"HTTP {done.status_code}")
            self.location = None  # the next task takes a fresh link
            return
        if not _PAGE_ID.search(target):
            self.location = None
            return
        self._get_page(target)
