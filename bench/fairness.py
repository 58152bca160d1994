"""Fair dispatch: does one user's burst delay another user's reply?

``python -m bench.fairness [--burst 50] [--caps 3,50] [--rounds 3]`` starts a private
stack (bench/stack.py: Redis, the simulator, one Celery worker, daphne) per cap
(``PONDER_MAX_ACTIVE_REPLIES``) and, per round:

1. *alone*: user B sends one message; we time B's POST → first ``delta`` frame on B's
   websocket (the reply has started: claimed, sent upstream, first token relayed);
2. *burst*: user A fires ``--burst`` sends at one moment (each in its own conversation),
   and 50 ms later B sends one message; the same time is measured for B, and A's
   answers are counted (202 accepted, 429 refused).

Every reply is a deep-thinking one at 40 pieces/s (about 10 s long), so A's accepted
replies are all still streaming when B's starts. Results go to ``bench/FAIRNESS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stack import ROOT, Stack, start_stack

MODEL = "qwen-plus"
PROMPT = "Think it over [[sim:rate=40 reasoning_tokens=200 answer_tokens=200]] #{tag}"
REPORT = ROOT / "bench" / "FAIRNESS.md"


@dataclass
class Login:
    session_key: str
    csrf: str

    @property
    def cookies(self) -> dict[str, str]:
        return {"sessionid": self.session_key, "csrftoken": self.csrf}


def make_user(username: str, conversations: int) -> tuple[Login, list[str]]:
    """Create a user with a session and ``conversations`` conversations (ORM, no hashing)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils.crypto import get_random_string

    from accounts.models import User
    from chat.models import Conversation

    user = User.objects.create(username=username, password=make_password(None))
    created = Conversation.objects.bulk_create(
        [Conversation(owner=user) for _ in range(conversations)]
    )
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "accounts.backends.PasswordBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    csrf = get_random_string(32, string.ascii_letters + string.digits)
    return Login(session.session_key or "", csrf), [str(c.id) for c in created]


async def send(client: Any, login: Login, conversation_id: str, tag: str) -> int:
    response = await client.post(
        f"/api/conversations/{conversation_id}/messages/",
        json={"content": PROMPT.format(tag=tag), "model": MODEL, "enable_thinking": True},
        headers={"X-CSRFToken": login.csrf},
        cookies=login.cookies,
    )
    return int(response.status_code)


async def time_to_first_delta(stack: Stack, client: Any, login: Login, conversation_id: str,
                              tag: str) -> float:  # fmt: skip
    """Send one message; return the seconds from the POST to its first delta frame."""
    from websockets.asyncio.client import connect

    url = stack.base_url.replace("http://", "ws://") + f"/ws/conversations/{conversation_id}/"
    cookie = f"sessionid={login.session_key}; csrftoken={login.csrf}"
    async with connect(url, additional_headers={"Cookie": cookie}, origin=stack.base_url) as ws:
        started = time.monotonic()
        status = await send(client, login, conversation_id, tag)
        if status != 202:
            raise RuntimeError(f"B's send answered {status}")
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if event.get("type") == "delta":
                return time.monotonic() - started


async def wait_until_idle(timeout: float = 180) -> None:
    """Wait for every reply of the stack to end, so rounds do not overlap."""
    from asgiref.sync import sync_to_async

    from chat.models import Message

    def busy() -> bool:
        return Message.objects.filter(status__in=["pending", "streaming"]).exists()

    deadline = time.monotonic() + timeout
    while await sync_to_async(busy)() and time.monotonic() < deadline:
        await asyncio.sleep(0.5)


async def one_round(stack: Stack, burst: int, index: int) -> dict[str, Any]:
    import httpx

    a_login, a_conversations = await asyncio.to_thread(make_user, f"a-{index}", burst)
    b_login, b_conversations = await asyncio.to_thread(make_user, f"b-{index}", 2)
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as client:
        alone = await time_to_first_delta(stack, client, b_login, b_conversations[0], "alone")
        await wait_until_idle()
        sends = [
            send(client, a_login, conversation_id, f"burst-{n}")
            for n, conversation_id in enumerate(a_conversations)
        ]
        a_task = asyncio.gather(*sends)
        await asyncio.sleep(0.05)
        during = await time_to_first_delta(stack, client, b_login, b_conversations[1], "during")
        statuses = Counter(await a_task)
        await wait_until_idle()
    return {
        "alone_s": alone,
        "during_s": during,
        "a_statuses": {str(k): v for k, v in statuses.items()},
    }


def run_cap(cap: int, burst: int, rounds: int) -> dict[str, Any]:
    var_dir = Path(tempfile.mkdtemp(prefix="ponder-fairness-"))
    os.environ["PONDER_MAX_ACTIVE_REPLIES"] = str(cap)
    os.environ["PONDER_SEND_RATE"] = "1000/minute"  # the cap is what this measures
    stack = start_stack(var_dir, protocol="openai", rate=40, database_url=None, concurrency=400)
    try:
        os.environ.update(stack.env)
        import django

        django.setup()
        results = [asyncio.run(one_round(stack, burst, n)) for n in range(rounds)]
    finally:
        stack.stop()
    during = [r["during_s"] for r in results]
    return {
        "cap": cap,
        "burst": burst,
        "rounds": results,
        "alone_median_s": statistics.median(r["alone_s"] for r in results),
        "during_median_s": statistics.median(during),
        "during_max_s": max(during),
    }


def run_child(cap: int, burst: int, rounds: int) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.fairness", "--one-cap", str(cap),
            "--burst", str(burst), "--rounds", str(rounds)]  # fmt: skip
    out = subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.split("RESULT ", 1)[1])
    return result


def markdown(caps: list[dict[str, Any]]) -> str:
    lines = [
        "| active-reply cap | A's sends: accepted / refused | B alone: first token (median) "
        "| B during A's burst: median | worst |",
        "|---|---|---|---|---|",
    ]
    for c in caps:
        accepted = sum(r["a_statuses"].get("202", 0) for r in c["rounds"]) // len(c["rounds"])
        refused = sum(r["a_statuses"].get("429", 0) for r in c["rounds"]) // len(c["rounds"])
        lines.append(
            f"| {c['cap']} | {accepted} / {refused} | {c['alone_median_s'] * 1000:.0f} ms "
            f"| {c['during_median_s'] * 1000:.0f} ms | {c['during_max_s'] * 1000:.0f} ms |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--caps", default="3,50", help="PONDER_MAX_ACTIVE_REPLIES values")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help=f"write {REPORT.name}")
    parser.add_argument("--one-cap", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.one_cap is not None:  # a child: Django is set up once per process, per stack
        print("RESULT " + json.dumps(run_cap(args.one_cap, args.burst, args.rounds)))
        return 0
    caps = [run_child(int(cap), args.burst, args.rounds) for cap in args.caps.split(",")]
    table = markdown(caps)
    print(table)
    if args.write:
        REPORT.write_text(
            "# Fair dispatch\n\nWritten by `python -m bench.fairness --write` "
            f"(burst {args.burst}, {args.rounds} rounds per cap, one worker, SQLite, "
            f"{os.cpu_count()} cores). What it measures: bench/fairness.py's docstring.\n\n"
            f"{table}\n\nRaw:\n\n```json\n{json.dumps(caps, indent=2)}\n```\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
