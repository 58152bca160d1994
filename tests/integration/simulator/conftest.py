"""The simulator itself: official SDKs, validation, faults and tracing, over real HTTP."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def collected_static_files() -> None:
    """Override the suite-wide collectstatic: these tests render no pages."""
