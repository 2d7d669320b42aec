"""The type check of ``app/`` runs with the tests: mypy with pyproject's ``[tool.mypy]``.

Strict on ``app.domain``, ``app.platform`` and ``app.interview``; every other module is
checked too (``check_untyped_defs``). Its cache is the checkout's ``.mypy_cache``.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_app_has_no_type_errors():
    result = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"mypy found errors:\n{result.stdout}{result.stderr}", pytrace=False)
