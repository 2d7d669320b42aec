"""``surveys check``: load and check definition files, print every problem on a line.

Each problem is printed as ``FILE:LINE: item NAME: sentence`` (``FILE:SHEET:ROW: ...`` for
workbooks); the exit status is 1 when any file has an error.

A YAML file whose top key is ``plan`` is a monitoring plan (``app.domain.monitoring.plan``),
checked against the questionnaires checked with it and those in its own directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import IO

from app.domain.messages import N_, Message
from app.domain.monitoring.plan import is_plan, load_plan
from app.domain.questionnaire.loading import (
    DEFINITION_SUFFIXES,
    MAX_DEFINITION_BYTES,
    YAML_SUFFIXES,
    load_definition,
)
from app.domain.questionnaire.model import Questionnaire, SourceLocation
from app.domain.questionnaire.problems import Gettext, LoadResult, Problem


def check_file(path: str | Path) -> LoadResult:
    """Load and check one definition file."""
    return load_definition(path)


def is_plan_file(path: Path) -> bool:
    """True for a YAML file that holds a monitoring plan rather than a questionnaire."""
    if path.suffix.lower() not in YAML_SUFFIXES or not path.is_file():
        return False
    try:
        with path.open("rb") as stream:
            return is_plan(stream.read(4096))
    except OSError:
        return False


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.suffix.lower() in DEFINITION_SUFFIXES)


def check_paths(paths: Iterable[str | Path]) -> list[LoadResult]:
    """Check each file, and each definition file directly inside each directory; plans
    last, against the questionnaires read (and those beside the plan)."""
    results: list[LoadResult] = []
    plans: list[Path] = []
    known: dict[str, Questionnaire] = {}
    for path in map(Path, paths):
        files = [path] if not path.is_dir() else _files(path)
        if path.is_dir() and not files:
            message = Message(N_("There is no .yaml, .yml or .xlsx file here."))
            results.append(LoadResult(None, [Problem(SourceLocation(str(path)), None, message)]))
        for file in files:
            if is_plan_file(file):
                plans.append(file)
                continue
            result = check_file(file)
            results.append(result)
            if result.questionnaire is not None:
                known.setdefault(result.questionnaire.settings.id, result.questionnaire)
    for plan in plans:
        results.append(_check_plan(plan, known))
    return results


def _check_plan(path: Path, known: dict[str, Questionnaire]) -> LoadResult:
    """A plan checked against ``known`` and the questionnaires in its directory."""
    questionnaires = dict(known)
    for sibling in _files(path.parent):
        if sibling != path and not is_plan_file(sibling):
            result = load_definition(sibling)
            if result.questionnaire is not None:
                questionnaires.setdefault(result.questionnaire.settings.id, result.questionnaire)
    with path.open("rb") as stream:
        data = stream.read(MAX_DEFINITION_BYTES + 1)
    if len(data) > MAX_DEFINITION_BYTES:
        return load_definition(path)  # refused as too large, the same way
    plan = load_plan(data, str(path), questionnaires)
    return LoadResult(None, plan.problems)


def run_check(paths: Iterable[str | Path], out: IO[str], gettext: Gettext | None = None) -> int:
    """Print every problem of every file on its own line; 1 if there is any error, else 0."""
    status = 0
    for result in check_paths(paths):
        for problem in result.problems:
            print(problem.render(gettext), file=out)
        if not result.ok:
            status = 1
    return status
