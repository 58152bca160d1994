"""Redis faults mid-stream: connections killed, a restart with and without its data,
the broker down when a message is sent, a stop request while connections die.

The promise (docs/api.md, websocket): every assistant message reaches a terminal status;
a client following the protocol receives it without reloading, and nothing after it;
the text it assembled equals the persisted reasoning and content.
"""

from __future__ import annotations

import signal
import time

from chat.models import Message
from tests.faults.harness import (
    Repeatedly,
    directive,
    kill_redis_clients,
    pause_redis_clients,
)

STREAMS = 8
SLOW = directive(rate=40, reasoning=120, answer=80)  # ~5 s per stream
SHORT = directive(rate=60, reasoning=60, answer=40)  # ~2 s
LONG = directive(rate=40, reasoning=150, answer=150)  # ~7.5 s: still running when stopped


def test_redis_client_connections_killed_then_paused(faults):
    stack = faults.stack()
    run = faults.run("redis: CLIENT KILL (normal + pubsub), then CLIENT PAUSE 2500", stack)
    run.start_streams(STREAMS, SLOW)
    run.wait_for_text()
    run.mark_fault()
    kill_redis_clients(stack.redis)
    pause_redis_clients(stack.redis, 2500)
    run.wait_for_terminal()
    run.assert_promise_kept({"complete"})


def test_redis_restarted_with_its_data(faults):
    stack = faults.stack()
    run = faults.run("redis: restarted with its data (SIGTERM, 3 s down, same port + AOF)", stack)
    run.start_streams(STREAMS, SLOW)
    run.wait_for_text()
    run.mark_fault()
    stack.redis.stop(signal.SIGTERM)
    time.sleep(3)
    stack.redis.start()
    run.wait_for_terminal()
    run.assert_promise_kept({"complete"})


def test_redis_restarted_without_its_data(faults):
    stack = faults.stack()
    run = faults.run("redis: restarted empty (SIGKILL, AOF deleted, same port)", stack)
    run.start_streams(STREAMS, SLOW)
    run.wait_for_text()
    run.mark_fault()
    stack.redis.stop(signal.SIGKILL)
    stack.redis.wipe()
    time.sleep(1.5)  # a crashed server takes a moment to come back
    stack.redis.start()
    run.wait_for_terminal()
    run.assert_promise_kept(set())  # any terminal status; the text must still match


def test_broker_down_when_a_message_is_sent(faults):
    """A send while Redis is down: 202 with the message saved (the reply runs once Redis is
    back, within 10 s) or a clear 503 with nothing written; never a 500."""
    stack = faults.stack()
    run = faults.run("redis: down while a message is sent, back 2 s later", stack)
    conversations = run.open_conversations(3)
    stack.redis.stop(signal.SIGTERM)
    answers = [(c, run.send(c, f"Sent while the broker is down {SHORT}")) for c in conversations]
    time.sleep(2)
    stack.redis.start()
    run.mark_fault()  # the 10 s for the reply count from Redis's return
    for conversation_id, response in answers:
        saved = list(
            Message.objects.filter(conversation_id=conversation_id)
            .order_by("created_at")
            .values_list("id", "role", "status")
        )
        replies = [str(m[0]) for m in saved if m[1] == "assistant"]
        label = f"POST /api/conversations/{conversation_id}/messages/ while Redis was down"
        if response.status_code == 202:
            run.add_stream(conversation_id, response.json()["assistant_message"]["id"])
            continue
        if response.status_code == 503:
            problems = []
            if saved:
                problems.append(f"answered 503 but wrote {len(saved)} message(s): {saved}")
            if "error" not in response.json():
                problems.append(f"a 503 without the error shape: {response.text[:200]}")
            run.extra_results.append((label, problems))
            continue
        refusal = (
            f"answered {response.status_code} (expected 202 with the message saved, or 503 "
            f"with nothing written): {response.text[:160]!r}; the database holds "
            f"{[(str(i), r, st) for i, r, st in saved]}"
        )
        if replies:  # the reply was written anyway: it is owed a terminal status too
            run.add_stream(conversation_id, replies[0])
            run.problem(replies[0], refusal)
        else:
            run.extra_results.append((label, [refusal]))
    run.wait_for_terminal(deadline=10)
    run.assert_promise_kept({"complete"}, deadline=10)


def test_stop_while_redis_connections_are_killed(faults):
    """Stop requests while every Redis client connection is killed every 100 ms."""
    stack = faults.stack()
    run = faults.run("redis: stop requested while client connections are being killed", stack)
    run.start_streams(6, LONG)
    run.wait_for_text()
    run.mark_fault()
    with Repeatedly(lambda: kill_redis_clients(stack.redis), interval=0.1):
        time.sleep(0.3)
        for stream in run.streams:
            response = run.session.post(f"/api/messages/{stream.message_id}/stop/")
            if response.status_code != 202:
                run.problem(
                    stream.message_id,
                    f"the stop request answered {response.status_code} (POST "
                    f"/api/messages/{stream.message_id}/stop/: {response.text[:120]!r})",
                )
        time.sleep(1.5)
    run.wait_for_terminal()
    run.assert_promise_kept({"cancelled"})
