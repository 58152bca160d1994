"""Docs stay true: every env var in the README, every route and UI hook in docs/api.md."""

from __future__ import annotations

import re
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["config", "chat", "accounts", "ponder_run"]
API_DOC = ROOT / "docs" / "api.md"
# The Django admin's own pages are documented by Django; ours under /admin/ are listed.
DJANGO_ADMIN_PREFIX = "admin/"


def env_vars_read_by_code() -> set[str]:
    names: set[str] = set()
    pattern = re.compile(
        r"""(?:environ(?:\.get)?\(|environ\[|envbool\(|envdays\(|envlist\(|_env\.\w+\()\s*["']([A-Z][A-Z0-9_]+)["']"""
    )
    for top in SOURCES:
        for path in (ROOT / top).rglob("*.py"):
            names |= set(pattern.findall(path.read_text()))
    return names - {"DJANGO_SETTINGS_MODULE"}


def routes(patterns: list, prefix: str = "") -> list[str]:
    """Return every URL pattern as ``/path/<param>/``, the Django admin's own left out."""
    found = []
    for entry in patterns:
        path = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            found += routes(entry.url_patterns, path)
        elif isinstance(entry, URLPattern):
            found.append("/" + path)
    return found


def normalized(route: str) -> str:
    return re.sub(r"<[^>]+>", "<>", route)


def documented_routes() -> set[str]:
    paths = re.findall(r"`(?:[A-Z]+(?:, [A-Z]+)* )(/[^`\s?]*)", API_DOC.read_text())
    return {normalized(path) for path in paths}


def ui_hooks_in_code() -> set[str]:
    pattern = re.compile(r"""(?:data-testid=|testid\s*=\s*|testid=)["']?([a-z][a-z-]+)""")
    hooks: set[str] = set()
    for path in [*(ROOT / "templates").rglob("*.html"), *(ROOT / "static" / "js").glob("*.js")]:
        hooks |= set(pattern.findall(path.read_text()))
    return hooks


def test_every_environment_variable_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in env_vars_read_by_code() if f"`{name}`" not in readme)
    assert missing == []


def test_the_scan_finds_the_contract_variables():
    assert {"DASHSCOPE_API_KEY", "DATABASE_URL", "DJANGO_HTTPS", "PORT"} <= env_vars_read_by_code()


def test_every_route_is_in_the_api_doc():
    documented = documented_routes()
    missing = [r for r in routes(get_resolver().url_patterns) if normalized(r) not in documented]
    assert missing == []


def test_the_route_scan_sees_ours_and_skips_djangos_admin():
    found = {normalized(r) for r in routes(get_resolver().url_patterns)}
    assert {"/api/conversations/<>/messages/", "/s/<>/", "/admin/spend.csv", "/healthz"} <= found
    assert "/admin/<>/<>/" not in found and "/admin/login/" not in found


def test_every_ui_hook_is_in_the_api_doc():
    doc = API_DOC.read_text()
    missing = sorted(hook for hook in ui_hooks_in_code() if f"`{hook}`" not in doc)
    assert missing == []


def test_the_hook_scan_finds_the_contract_hooks():
    assert {"composer", "send", "stop", "thinking", "answer", "share-url"} <= ui_hooks_in_code()


def code_map_of_chat() -> str:
    """The README code map's ``chat/`` part: from its ``chat/`` line to the next top entry."""
    block = (ROOT / "README.md").read_text().split("### Code map", 1)[1].split("```", 2)[1]
    lines = block.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("chat/"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i][:1] not in (" ", ""))
    return "\n".join(lines[start + 1 : end])


def names_in_code_map() -> set[str]:
    return set(
        re.findall(r"(?<![\w/.:])([a-z_][a-z0-9_]*(?:/|\.py))(?=[\s,]|$)", code_map_of_chat())
    )


def chat_packages_and_modules() -> set[str]:
    chat = ROOT / "chat"
    packages = {
        f"{init.parent.name}/"
        for init in chat.rglob("__init__.py")
        if init.parent != chat
        and not {"migrations", "commands"} & set(init.parent.relative_to(chat).parts)
    }
    modules = {path.name for path in chat.glob("*.py") if path.name != "__init__.py"}
    return packages | modules


def test_the_code_map_names_every_package_and_top_level_module_of_chat():
    assert chat_packages_and_modules() - names_in_code_map() == set()


def test_the_code_map_names_nothing_that_is_not_in_the_tree():
    assert names_in_code_map() - chat_packages_and_modules() == set()


def test_the_code_map_scan_sees_nested_packages():
    assert {"pipeline/", "delivery/", "protocols/", "transport/", "tasks.py"} <= names_in_code_map()
