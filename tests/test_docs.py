"""README stays true: every environment variable the code reads is documented."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["config", "chat", "accounts", "ponder_run"]


def env_vars_read_by_code() -> set[str]:
    names: set[str] = set()
    pattern = re.compile(
        r"""(?:environ(?:\.get)?\(|environ\[|envbool\(|envlist\(|_env\.\w+\()\s*["']([A-Z][A-Z0-9_]+)["']"""
    )
    for top in SOURCES:
        for path in (ROOT / top).rglob("*.py"):
            names |= set(pattern.findall(path.read_text()))
    return names - {"DJANGO_SETTINGS_MODULE"}


def test_every_environment_variable_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in env_vars_read_by_code() if f"`{name}`" not in readme)
    assert missing == []


def test_the_scan_finds_the_contract_variables():
    assert {"DASHSCOPE_API_KEY", "DATABASE_URL", "DJANGO_HTTPS", "PORT"} <= env_vars_read_by_code()
