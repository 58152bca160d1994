"""PostgreSQL drops every connection of the web process and the workers mid-stream."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from tests.faults.harness import (
    directive,
    forget_dead_test_connections,
    terminate_postgres_backends,
)

STREAMS = 8
SLOW = directive(rate=40, reasoning=120, answer=80)  # ~5 s per stream


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="terminates PostgreSQL backends; the suite's database is not PostgreSQL "
    "(CI's second pass sets DATABASE_URL=postgres://… and runs it)",
)
def test_postgres_connections_terminated_mid_stream(faults):
    # A blip shorter than the stale limit must cost nothing. The suite's 4 s limit is too
    # short: while connections keep dying, psycopg_pool's reconnect backoff can hold a
    # worker's database calls for 10-20 s (measured); production's limit is 45 s.
    stack = faults.stack(settings={"PONDER_STREAM_STALE_SECONDS": "40"})
    run = faults.run("database: pg_terminate_backend of every other connection", stack)
    run.start_streams(STREAMS, SLOW)
    run.wait_for_text()
    run.mark_fault()
    # Like a failover: connections drop, and the new ones drop again, for 5 s; the streams
    # end meanwhile, so their last writes (the final status) meet a dead connection too.
    try:
        terminated = terminate_postgres_backends()
        assert terminated > 0, "harness: no connection of the stack was there to terminate"
        until = time.monotonic() + 5
        while time.monotonic() < until:  # in this thread: its connection is the one spared
            time.sleep(0.5)
            terminate_postgres_backends()
    finally:
        forget_dead_test_connections()  # the idle ones of this process's pool died too
    run.wait_for_terminal()
    run.assert_promise_kept({"complete"})
