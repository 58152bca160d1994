"""Upstream integration tests: our client and the official SDKs against the real simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat.upstream.simulator import SimulatorThread


@pytest.fixture(scope="session", autouse=True)
def collected_static_files() -> None:
    """Override the suite-wide collectstatic: these tests render no pages."""


@pytest.fixture(scope="session")
def upstream_sim() -> Iterator[SimulatorThread]:
    """One simulator for this directory, unpaced (directives slow single replies down)."""
    sim = SimulatorThread(rate=0)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture(params=["openai", "dashscope"])
def wire(request: pytest.FixtureRequest) -> str:
    """Each test runs once per upstream protocol."""
    return request.param
