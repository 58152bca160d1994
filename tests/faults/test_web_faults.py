"""The web process (daphne) is killed mid-stream and a new one starts on the same port."""

from __future__ import annotations

from tests.faults.harness import directive

STREAMS = 8
SLOW = directive(rate=40, reasoning=120, answer=80)  # ~5 s per stream


def test_daphne_killed_and_restarted_on_the_same_port(faults):
    stack = faults.stack()
    run = faults.run("web: daphne SIGKILL mid-stream, restarted on the same port", stack)
    run.start_streams(STREAMS, SLOW)
    run.wait_for_text()
    run.mark_fault()
    stack.kill_web()
    stack.restart_web()
    run.wait_for_terminal()
    run.assert_promise_kept({"complete"})
