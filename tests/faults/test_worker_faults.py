"""A worker dies or freezes mid-stream while a second worker runs (its reaper only).

The second worker listens to a queue of its own, so every reply runs on the first one
and the outcome is known: the reaper must end each of them ``interrupted`` (heartbeat
stale after PONDER_STREAM_STALE_SECONDS=4), the client must receive that status, and the
text it assembled must equal what the database kept.
"""

from __future__ import annotations

import signal
import time

from tests.faults.harness import directive, signal_group

STREAMS = 6
SLOW = directive(rate=40, reasoning=150, answer=100)  # ~6 s per stream


def test_worker_killed_while_a_second_worker_runs(faults):
    stack = faults.stack(workers=("worker",), reaper_only=("standby",))
    run = faults.run("worker: SIGKILL mid-stream, a second worker's reaper ends its replies", stack)
    run.start_streams(STREAMS, SLOW)
    run.wait_for_text(chars=250)  # ~1.3 s in: the database has saved some text too
    run.mark_fault()
    signal_group(stack.workers["worker"], signal.SIGKILL)
    run.wait_for_terminal()
    run.assert_promise_kept({"interrupted"})


def test_worker_frozen_past_the_stale_limit(faults):
    """SIGSTOP for 7 s (stale limit 4 s), then SIGCONT: the reaper has ended its replies,
    and the thawed worker, catching up with its upstream streams, must add nothing."""
    stack = faults.stack(workers=("worker",), reaper_only=("standby",))
    run = faults.run("worker: SIGSTOP 7 s (stale limit 4 s), then SIGCONT", stack)
    run.start_streams(STREAMS, SLOW)
    run.wait_for_text(chars=250)  # ~1.3 s in: the database has saved some text too
    run.mark_fault()
    worker = stack.workers["worker"]
    signal_group(worker, signal.SIGSTOP)
    try:
        time.sleep(7)
    finally:
        signal_group(worker, signal.SIGCONT)
    # The thawed worker reads what upstream sent meanwhile and runs to the end in a few
    # seconds: keep listening for whatever it publishes after the terminal status.
    run.wait_for_terminal(quiet_after=6)
    run.assert_promise_kept({"interrupted"})
