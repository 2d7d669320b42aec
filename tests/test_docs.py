"""The documents name tests as proof (docs/security.md maps ASVS to them): each must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted([*ROOT.glob("docs/*.md"), ROOT / "README.md"])
# `tests/cati/test_x.py::test_name`, or `::test_name` for the file named last before it
REFERENCE = re.compile(r"`((?:tests/[\w/]+\.py)?)::(test_\w+)`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def _references(document: Path) -> list[tuple[str, str]]:
    found, current = [], ""
    for file, name in REFERENCE.findall(document.read_text(encoding="utf-8")):
        current = file or current
        assert current, f"{document.name}: ::{name} names no file before it"
        found.append((current, name))
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_test_a_document_names_exists(document: Path) -> None:
    missing = []
    for file, name in _references(document):
        path = ROOT / file
        if not path.is_file() or name not in _tests_in(path):
            missing.append(f"{file}::{name}")
    assert missing == [], f"{document.name} names tests that do not exist: {missing}"


def test_the_security_map_names_tests() -> None:
    assert len(_references(ROOT / "docs" / "security.md")) > 100
