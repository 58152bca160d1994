"""Regenerate docs/screenshots/{desktop-light,desktop-dark,mobile,japanese…}.png from the real app.

    .venv/bin/python scripts/screenshots.py                 # starts its own stack
    .venv/bin/python scripts/screenshots.py --base-url http://127.0.0.1:8000 \\
        --username admin --password admin                   # uses a running app

On its own it runs the whole stack in a temporary directory (bundled Redis, the
simulator, daphne, a Celery worker, a fresh SQLite database), writes a few
conversations with the ORM, and streams one live reply for the dark screenshot.
Against a running app it asks one question through the API and waits for the answer.
Chromium is Debian's (/usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ponder_run.__main__ import daphne_argv, worker_argv  # noqa: E402
from ponder_run.procs import Child, stop_all  # noqa: E402
from ponder_run.services import (  # noqa: E402
    free_port,
    project_env,
    start_bundled_redis,
    start_simulator,
    wait_for_http,
)

OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
]  # fmt: skip
USERNAME, PASSWORD = "mei", "ponder-screenshots"
QUESTION = "Is 3,599 a prime number? Show your reasoning."
FOLLOW_UP = "Nice. Is there a quick way to spot numbers like that?"
EDITED = "Is 2,147,483,647 prime? Answer in one line, with the test you used."

REASONING = """The user asks whether 3,599 is prime. Let me check it carefully rather than guess.

First, the easy divisors: 3,599 is odd, so not divisible by 2. Digit sum 3+5+9+9 = 26, not a multiple of 3. It does not end in 0 or 5, so not 5. 3,599 / 7 = 514.14…, no. 11: alternating sum 9−9+5−3 = 2, no. 13: 13 × 276 = 3,588, remainder 11, no.

Hmm, 3,599 is suspiciously close to 3,600, and 3,600 = 60². So 3,599 = 60² − 1² — a difference of two squares!

That factors as (60 − 1)(60 + 1) = 59 × 61.

Check: 59 × 61 = 59 × 60 + 59 = 3,540 + 59 = 3,599. ✓

Both 59 and 61 are prime (twin primes, in fact). So 3,599 is composite, and its prime factorisation is 59 × 61. I should show the trick, a table of the factors and a quick way to verify in code."""

ANSWER = """**No — 3,599 is not prime.** It is one less than a perfect square, which gives it away:

> 3,599 = 60² − 1² = (60 − 1)(60 + 1) = **59 × 61**

| factor | prime? | note |
|-------:|:------:|------|
| 59 | yes | twin prime with 61 |
| 61 | yes | twin prime with 59 |

### Checking it in code

```python
def smallest_factor(n: int) -> int:
    \"\"\"Return the smallest prime factor of n (n itself when n is prime).\"\"\"
    for d in range(2, int(n ** 0.5) + 1):
        if n % d == 0:
            return d
    return n

print(smallest_factor(3599))  # 59
```

Trial division only has to go up to √3,599 ≈ 59.99, so the loop stops right at 59.
See [difference of two squares](https://en.wikipedia.org/wiki/Difference_of_two_squares) for the general trick."""

JA_QUESTION = "3,599 は素数ですか？理由も教えてください。"
JA_REASONING = """3,599 が素数かどうかを確かめる。まず小さな素数で割ってみる。

2 では割り切れない（奇数）。各桁の和は 3+5+9+9 = 26 なので 3 の倍数でもない。末尾が 0 でも 5 でもないので 5 でもない。

3,599 は 3,600 = 60² にとても近い。つまり 3,599 = 60² − 1² で、平方の差になっている。

(60 − 1)(60 + 1) = 59 × 61。検算：59 × 61 = 3,540 + 59 = 3,599。✓

59 と 61 はどちらも素数（双子素数）。よって 3,599 は合成数。"""
JA_ANSWER = """**いいえ、3,599 は素数ではありません。** 平方数より 1 小さいことが手がかりです。

> 3,599 = 60² − 1² = (60 − 1)(60 + 1) = **59 × 61**

| 因数 | 素数？ |
|----:|:----:|
| 59 | はい |
| 61 | はい |

試し割りは √3,599 ≈ 59.99 まで調べれば十分なので、59 で見つかった時点で終わりです。"""

OTHER_CONVERSATIONS = [
    # (title, age in hours)
    ("Merge overlapping intervals in Python", 3),
    ("PostgreSQL vs SQLite for an internal tool", 27),
    ("Why the Monty Hall switch wins", 60),
    ("Polite reminder email for an overdue invoice", 100),
    ("Readiness vs liveness probes in Kubernetes", 24 * 12),
    ("Summarise the Q3 incident review", 24 * 20),
]


def seed(username: str, password: str) -> str:
    """Write a user and a few conversations; return the showcase conversation's id."""
    import django

    django.setup()
    from django.utils import timezone

    from accounts.models import User
    from chat.models import Conversation, Message

    user = User.objects.create_user(
        username=username, password=password, monthly_token_quota=100_000
    )
    now = timezone.now()
    for title, hours in OTHER_CONVERSATIONS:
        when = now - timedelta(hours=hours)
        conversation = Conversation.objects.create(
            owner=user, title=title, title_is_final=True, created_at=when, updated_at=when
        )
        asked = Message.objects.create(
            conversation=conversation, role="user", content=title, created_at=when
        )
        Message.objects.create(
            conversation=conversation, role="assistant", reply_to=asked, model="qwen-plus",
            content="…", status="complete", created_at=when + timedelta(seconds=1),
            input_tokens=120 + 40 * len(title), output_tokens=900 + 60 * len(title),
        )  # fmt: skip

    start = now - timedelta(minutes=2)
    showcase = Conversation.objects.create(
        owner=user, title="Is 3,599 prime?", title_is_final=True, model="qwen3-max",
        enable_thinking=True, thinking_budget=4000, created_at=start, updated_at=now,
    )  # fmt: skip
    asked = Message.objects.create(
        conversation=showcase, role="user", content=QUESTION, created_at=start
    )
    Message.objects.create(
        conversation=showcase, role="assistant", reply_to=asked, model="qwen3-max",
        enable_thinking=True, thinking_budget=4000, reasoning=REASONING, content=ANSWER,
        status="complete", finish_reason="stop", input_tokens=38, output_tokens=1768,
        reasoning_tokens=1532, total_tokens=1806, cost=Decimal("0.010608"), cost_currency="USD",
        created_at=start + timedelta(milliseconds=5),
        first_token_at=start + timedelta(seconds=0.6),
        answer_started_at=start + timedelta(seconds=13.0),
        completed_at=start + timedelta(seconds=19.8),
    )  # fmt: skip
    return str(showcase.id)


def seed_japanese(username: str) -> str:
    """Write a conversation in Japanese for the Japanese UI's screenshot; return its id."""
    from django.utils import timezone

    from accounts.models import User
    from chat.models import Conversation, Message

    user = User.objects.get(username=username)
    start = timezone.now() - timedelta(minutes=1)
    conversation = Conversation.objects.create(
        owner=user, title="3,599 は素数？", title_is_final=True, model="qwen3-max",
        enable_thinking=True, thinking_budget=4000, created_at=start, updated_at=start,
    )  # fmt: skip
    asked = Message.objects.create(
        conversation=conversation, role="user", content=JA_QUESTION, created_at=start
    )
    Message.objects.create(
        conversation=conversation, role="assistant", reply_to=asked, model="qwen3-max",
        enable_thinking=True, thinking_budget=4000, reasoning=JA_REASONING, content=JA_ANSWER,
        status="complete", finish_reason="stop", input_tokens=52, output_tokens=1204,
        reasoning_tokens=986, total_tokens=1256, cost=Decimal("0.007224"), cost_currency="USD",
        created_at=start + timedelta(milliseconds=5),
        first_token_at=start + timedelta(seconds=0.5),
        answer_started_at=start + timedelta(seconds=9.2),
        completed_at=start + timedelta(seconds=14.1),
    )  # fmt: skip
    return str(conversation.id)


@contextmanager
def own_stack() -> Iterator[str]:
    """Run the whole app in a temporary directory; yield its base URL."""
    var = Path(tempfile.mkdtemp(prefix="ponder-screenshots-"))
    env = project_env(PONDER_VAR_DIR=str(var), DJANGO_DEBUG="0")
    for name in ("DATABASE_URL", "REDIS_URL", "DASHSCOPE_BASE_URL", "DASHSCOPE_PROTOCOL"):
        env.pop(name, None)
    children: list[Child] = []
    try:
        redis_child, env["REDIS_URL"] = start_bundled_redis(var / "redis", var / "r.sock", env)
        children.append(redis_child)
        # Slow enough that the dark screenshot catches the model mid-thought.
        simulator, env["DASHSCOPE_BASE_URL"] = start_simulator(env, rate=14)
        children.append(simulator)
        # A key is set (for the simulator), so the page shows no simulator banner.
        env["DASHSCOPE_API_KEY"] = "sk-ponder-screenshots"
        for args in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
            subprocess.run(
                [sys.executable, "manage.py", *args, "--verbosity", "0"],
                cwd=ROOT,
                env=env,
                check=True,
            )
        port = str(free_port())
        children.append(Child("web", daphne_argv(port), env))
        children.append(Child("worker", worker_argv("20"), env))
        base_url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base_url}/accounts/login/", children[-2])
        os.environ.update(env)
        yield base_url
    finally:
        stop_all(children)
        shutil.rmtree(var, ignore_errors=True)


def ask_over_api(base_url: str, username: str, password: str) -> str:
    """Ask QUESTION with thinking on in a new conversation of a running app; wait for it."""
    import httpx

    with httpx.Client(base_url=base_url, timeout=30) as http:
        http.get("/accounts/login/")
        csrf = http.cookies["csrftoken"]
        login = {"username": username, "password": password, "csrfmiddlewaretoken": csrf}
        if http.post("/accounts/login/", data=login).status_code != 302:
            raise SystemExit("Cannot log in with that username and password.")
        http.headers["X-CSRFToken"] = http.cookies["csrftoken"]
        conversation = http.post("/api/conversations/", json={}).json()["id"]
        body = {"content": QUESTION, "model": "qwen3-max", "enable_thinking": True}
        sent = http.post(f"/api/conversations/{conversation}/messages/", json=body)
        sent.raise_for_status()
        for _ in range(600):
            messages = http.get(f"/api/conversations/{conversation}/").json()["messages"]
            if messages[-1]["status"] not in ("pending", "streaming"):
                return conversation
            time.sleep(0.5)
    raise SystemExit("The reply did not finish in five minutes.")


def shoot(
    base_url: str,
    username: str,
    password: str,
    conversation: str,
    live: bool,
    japanese: str | None = None,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )

        def open_page(open_conversation=conversation, **options):
            context = browser.new_context(base_url=base_url, **options)
            page = context.new_page()
            page.goto("/accounts/login/")
            # By field name: the labels are in the browser's language.
            page.locator("input[name=username]").fill(username)
            page.locator("input[name=password]").fill(password)
            page.locator("form button[type=submit]").first.click()
            expect(page.get_by_test_id("model-select")).to_have_value(re.compile(".+"))
            page.goto(f"/c/{open_conversation}/")
            reply = page.locator("[data-role=assistant]").last
            expect(reply).to_have_attribute("data-status", "complete", timeout=300_000)
            page.wait_for_timeout(300)
            return page

        def to_top(page):
            page.locator("[data-scroller]").evaluate("(el) => el.scrollTo(0, 0)")
            page.wait_for_timeout(200)

        desktop = {"width": 1280, "height": 900}
        page = open_page(viewport=desktop, color_scheme="light")
        to_top(page)
        page.screenshot(path=OUT / "desktop-light.png")
        print(f"wrote {OUT / 'desktop-light.png'}")

        if live:  # an edited question: a new branch, with the ‹ 2/2 › switcher
            page = open_page(viewport=desktop, color_scheme="light")
            page.get_by_test_id("edit-message").first.click(force=True)
            page.locator("[data-testid=message][data-role=user] textarea").first.fill(EDITED)
            page.get_by_test_id("edit-save").first.click()
            expect(page.get_by_test_id("user-versions").first).to_contain_text("2 / 2")
            reply = page.locator("[data-role=assistant]").last
            expect(reply).not_to_have_attribute("data-status", "complete", timeout=10_000)
            expect(reply).to_have_attribute("data-status", "complete", timeout=120_000)
            page.wait_for_timeout(300)
            to_top(page)
            page.screenshot(path=OUT / "edit-branch.png")
            print(f"wrote {OUT / 'edit-branch.png'}")

        if japanese:  # the UI in Japanese, the reasoning open
            page = open_page(
                japanese, viewport=desktop, color_scheme="light", locale="ja-JP",
                extra_http_headers={"Accept-Language": "ja"},
            )  # fmt: skip
            page.locator("[data-testid=thinking] summary").last.click()
            page.wait_for_timeout(300)
            to_top(page)
            page.screenshot(path=OUT / "japanese.png")
            print(f"wrote {OUT / 'japanese.png'}")

        phone = {"width": 375, "height": 812}
        page = open_page(viewport=phone, device_scale_factor=2, is_mobile=True, has_touch=True)
        to_top(page)
        page.screenshot(path=OUT / "mobile.png")
        print(f"wrote {OUT / 'mobile.png'}")

        page = open_page(viewport=desktop, color_scheme="dark")
        if live:
            page.get_by_test_id("composer").fill(FOLLOW_UP)
            page.get_by_test_id("composer").press("Enter")
            pane = page.locator("[data-testid=thinking][open]").last
            expect(pane).to_be_visible(timeout=30_000)
            page.wait_for_timeout(5500)
        page.screenshot(path=OUT / "desktop-dark.png")
        print(f"wrote {OUT / 'desktop-dark.png'}")
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="a running Ponder (default: start one)")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="admin")
    args = parser.parse_args()
    if args.base_url:
        conversation = ask_over_api(args.base_url, args.username, args.password)
        shoot(args.base_url, args.username, args.password, conversation, live=False)
        return 0
    with own_stack() as base_url:
        conversation = seed(USERNAME, PASSWORD)
        japanese = seed_japanese(USERNAME)
        shoot(base_url, USERNAME, PASSWORD, conversation, live=True, japanese=japanese)
    return 0


if __name__ == "__main__":
    sys.exit(main())
