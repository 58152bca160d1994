"""Personas shared by every test: Alice and Bob are staff, Charlie is an admin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.factories import make_user


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the fault tests first, before any stack that lives for the whole session starts.

    Every stack shares the test database; a session stack's reaper, talking to another
    Redis, would end a fault test's frozen replies without seeing their replay buffers.
    """
    items.sort(key=lambda item: 0 if "faults" in item.path.parts else 1)


@pytest.fixture(autouse=True)
def generous_fair_use(settings):
    """Tests send many replies at once as one user; the fair-use tests set their own limits."""
    settings.MAX_ACTIVE_REPLIES = 1000
    settings.SEND_RATE = "100000/minute"


@pytest.fixture
def alice(db):
    return make_user("alice")


@pytest.fixture
def bob(db):
    return make_user("bob")


@pytest.fixture
def admin_user(db):
    return make_user("charlie", is_staff=True, is_superuser=True)


def logged_in_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice):
    return logged_in_client(alice)


@pytest.fixture
def bob_client(bob):
    return logged_in_client(bob)


@pytest.fixture(scope="session")
def simulator() -> Iterator[str]:
    """The upstream simulator, fast enough for tests; directives slow single replies down."""
    from simulator import SimulatorThread

    sim = SimulatorThread(rate=400)
    yield sim.start()
    sim.stop()


@pytest.fixture(scope="session", autouse=True)
def collected_static_files() -> None:
    """Pages use the manifest storage (as in production), so collect static files first."""
    from django.core.management import call_command

    call_command("collectstatic", "--noinput", verbosity=0)
