"""The layer contracts of pyproject.toml's [tool.importlinter]: a forbidden import fails here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_imports_keep_the_layer_contracts() -> None:
    # lint-imports sits beside the interpreter running the tests (the project's venv)
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_routes_leave_queries_and_transactions_to_the_services() -> None:
    # a route calls one service per action; the request boundary commits or rolls back
    forbidden = ("select(", ".commit()", ".rollback()")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "app").rglob("routes.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(word in line for word in forbidden)
    ]
    assert found == []
