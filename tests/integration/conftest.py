"""The live stack for integration tests, once per upstream protocol."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulator import SimulatorThread
from tests.factories import make_user
from tests.live import LiveStack, Session, start_stack


@pytest.fixture(scope="session", params=["openai", "dashscope"])
def protocol(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def live(protocol, simulator, django_db_setup, django_db_blocker) -> Iterator[LiveStack]:
    with django_db_blocker.unblock():
        stack = start_stack(simulator, protocol)
    yield stack
    stack.stop()


@pytest.fixture
def live_alice(live, transactional_db) -> Iterator[Session]:
    make_user("alice")
    session = Session(live.base_url, "alice")
    yield session
    session.close()


@pytest.fixture
def live_bob(live, transactional_db) -> Iterator[Session]:
    make_user("bob")
    session = Session(live.base_url, "bob")
    yield session
    session.close()


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
