"""Scripted prompts for the simulator, and what it saw: shared by the live-stack tests."""

from __future__ import annotations

import base64
import json

import httpx

REASONING = "Let me think… 先想一想 🤔 about Straße and naïve café.\n\nStep 2: ∑ x² ≥ 0."
ANSWER = "## Answer\n\n你好，世界！🌏👩‍💻 Here is `code` and **bold** — done. ✅"


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def scripted(reasoning: str = REASONING, answer: str = ANSWER, extra: str = "") -> str:
    return f"Tell me. [[sim:reasoning={b64(reasoning)} answer={b64(answer)} {extra}]]"


def sim_requests(simulator: str) -> list[dict]:
    """Return the requests the simulator saw, leaving out title requests (they quote replies)."""
    from chat.streaming.pipeline.titles import INSTRUCTION

    requests = httpx.get(f"{simulator}/_sim/requests").json()
    return [r for r in requests if INSTRUCTION not in json.dumps(r["body"], ensure_ascii=False)]
