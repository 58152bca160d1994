"""Upstream unit tests: no Django, no database, no network (httpx.MockTransport)."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def collected_static_files() -> None:
    """Override the suite-wide collectstatic: these tests render no pages."""
