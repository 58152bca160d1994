"""Fault tests: every test starts its own stack (Redis, workers, daphne) and breaks it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import make_user
from tests.faults.harness import (
    FaultRun,
    FaultStack,
    record_summary,
    reset_summary,
    start_fault_stack,
)
from tests.live import Session

_users = count(1)


@pytest.fixture(scope="session")
def db_vendor(django_db_setup, django_db_blocker) -> str:
    with django_db_blocker.unblock():
        return connection.vendor


@pytest.fixture(scope="session", autouse=True)
def fault_summary(db_vendor: str) -> None:
    reset_summary(db_vendor)


class Faults:
    """What a fault test needs: its stack, a logged-in user, the run; all undone at the end."""

    def __init__(self, test_name: str, simulator_url: str, tmp_path: Path, vendor: str) -> None:
        self.name = re.sub(r"^test_", "", test_name)[:40]
        self.simulator_url = simulator_url
        self.tmp_path = tmp_path
        self.vendor = vendor
        self.stacks: list[FaultStack] = []
        self.runs: list[FaultRun] = []
        self.sessions: list[Session] = []
        self.started = time.monotonic()

    def stack(self, **options) -> FaultStack:
        stack = start_fault_stack(
            f"faults-{self.name}", self.simulator_url, self.tmp_path / "redis", **options
        )
        self.stacks.append(stack)
        return stack

    def run(self, fault: str, stack: FaultStack) -> FaultRun:
        username = f"fault{next(_users)}"
        make_user(username)
        session = Session(stack.base_url, username)
        self.sessions.append(session)
        run = FaultRun(fault, stack, session)
        self.runs.append(run)
        return run

    def close(self) -> None:
        for run in self.runs:
            run.close()
            record_summary(run.fault, self.vendor, run.verdict, time.monotonic() - self.started)
        for session in self.sessions:
            session.close()
        for stack in self.stacks:
            stack.stop()


@pytest.fixture
def faults(request, simulator, transactional_db, tmp_path, db_vendor) -> Iterator[Faults]:
    helper = Faults(request.node.name, simulator, tmp_path, db_vendor)
    try:
        yield helper
    finally:
        helper.close()
