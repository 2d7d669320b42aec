"""``surveys check``: load and check definition files, print every problem on a line.

Each problem is printed as ``FILE:LINE: item NAME: sentence`` (``FILE:SHEET:ROW: ...`` for
workbooks); the exit status is 1 when any file has an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import IO

from app.domain.messages import N_, Message
from app.domain.questionnaire.loading import DEFINITION_SUFFIXES, load_definition
from app.domain.questionnaire.model import SourceLocation
from app.domain.questionnaire.problems import Gettext, LoadResult, Problem


def check_file(path: str | Path) -> LoadResult:
    """Load and check one definition file."""
    return load_definition(path)


def check_paths(paths: Iterable[str | Path]) -> list[LoadResult]:
    """Check each file, and each definition file directly inside each directory."""
    results: list[LoadResult] = []
    for path in map(Path, paths):
        if not path.is_dir():
            results.append(check_file(path))
            continue
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in DEFINITION_SUFFIXES)
        if not files:
            message = Message(N_("There is no .yaml, .yml or .xlsx file here."))
            results.append(LoadResult(None, [Problem(SourceLocation(str(path)), None, message)]))
        results.extend(check_file(file) for file in files)
    return results


def run_check(paths: Iterable[str | Path], out: IO[str], gettext: Gettext | None = None) -> int:
    """Print every problem of every file on its own line; 1 if there is any error, else 0."""
    status = 0
    for result in check_paths(paths):
        for problem in result.problems:
            print(problem.render(gettext), file=out)
        if not result.ok:
            status = 1
    return status
