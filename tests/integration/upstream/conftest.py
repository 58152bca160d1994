"""Our upstream client against the real simulator."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def collected_static_files() -> None:
    """Override the suite-wide collectstatic: these tests render no pages."""
