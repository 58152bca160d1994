"""The browser modules' own tests (tests/js, Node's built-in runner) as part of the suite."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JS_TESTS = ROOT / "tests" / "js"


def test_the_javascript_unit_tests_pass():
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node is not on PATH: the tests of static/js (tests/js) need Node.js 20 or newer",
            pytrace=False,
        )
    # Files, not the directory: Node 20 searches a directory, Node 22 and later do not.
    files = sorted(str(path.relative_to(ROOT)) for path in JS_TESTS.rglob("*.test.mjs"))
    assert files, f"no *.test.mjs under {JS_TESTS}"
    result = subprocess.run(
        [node, "--test", *files], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, (
        f"node --test exited with {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
