"""Route requests, log them for tests and answer them, with the faults they ask for."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections import deque
from typing import Any, TextIO

from aiohttp import web

from chat.upstream.request import DASHSCOPE_MULTIMODAL_PATH, DASHSCOPE_TEXT_PATH, OPENAI_PATH
from simulator.directives import Directives, parse_directives, strip_directives
from simulator.formats import Tally
from simulator.responder import Request, Responder
from simulator.script import Script, build_script
from simulator.stream import Stream, format_for
from simulator.validate import (
    BAD_KEY,
    INPUT_INSPECTION,
    INTERNAL,
    RATE_LIMITED,
    Dialect,
    Plan,
    SimError,
    plan_request,
)

ROUTES: dict[str, Dialect] = {
    OPENAI_PATH: "openai",
    DASHSCOPE_TEXT_PATH: "text",
    DASHSCOPE_MULTIMODAL_PATH: "multimodal",
}
_HTTP_FAULTS = {
    "401": BAD_KEY,
    "429": RATE_LIMITED,
    "500": INTERNAL,
    "error_body": INPUT_INSPECTION,
}
LOG_SIZE = 200
MAX_LOGGED_STRING = 4096


class Simulator:
    """The request handler: one per server, shared by all its connections."""

    def __init__(self, *, rate: float = 40.0, trace: TextIO | None = None) -> None:
        self.rate = rate
        # Opt-in (``--trace-file``): one line per streamed piece, for latency benchmarks.
        self.trace = trace
        self.requests: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)
        self._attempts: dict[str, int] = {}
        self._responders: set[Responder] = set()

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        """Answer one request: aiohttp's handler for every path."""
        responder = Responder(request)
        self._responders.add(responder)
        try:
            parsed = await _read(request, responder)
            if parsed is not None:
                await self.answer(parsed, responder)
        finally:
            self._responders.discard(responder)
        return responder.response

    def close_connections(self) -> None:
        """Drop the connections of responses still under way (used on shutdown)."""
        for responder in list(self._responders):
            responder.abort()

    async def answer(self, request: Request, responder: Responder) -> None:
        """Answer one parsed request through ``responder``."""
        if request.path.startswith("/_sim/"):
            self._introspect(request, responder)
            return
        dialect = ROUTES.get(request.path)
        entry = self._log(request)
        try:
            if dialect is None:
                responder.reply_json(404, {"code": "NotFound", "message": "No such path."})
            elif request.method != "POST":
                responder.reply_json(405, {"code": "MethodNotAllowed", "message": "POST"})
            else:
                await self._generate(dialect, request, responder, entry)
        finally:
            entry["status"] = responder.status
            if entry["outcome"] == "pending":
                gone = responder.streaming and (responder.closed or responder.client_gone)
                entry["outcome"] = "client_disconnected" if gone else "completed"

    def _log(self, request: Request) -> dict[str, Any]:
        headers = dict(request.headers)
        if "authorization" in headers:
            headers["authorization"] = "Bearer ***"
        try:
            body: Any = json.loads(request.body) if request.body else None
        except ValueError:
            body = request.body.decode("utf-8", errors="replace")
        entry = {
            "method": request.method,
            "path": request.path,
            "headers": headers,
            "body": _clip(body),
            "status": None,
            "outcome": "pending",
            "pieces_sent": 0,
            "received_at": time.time(),
        }
        self.requests.append(entry)
        return entry

    def _introspect(self, request: Request, responder: Responder) -> None:
        if request.path == "/_sim/health":
            responder.reply_json(200, {"status": "ok"})
        elif request.path == "/_sim/requests" and request.method == "GET":
            responder.reply_json(200, list(self.requests))
        elif request.path == "/_sim/requests" and request.method == "DELETE":
            self.requests.clear()
            self._attempts.clear()
            responder.reply(204, b"")
        else:
            responder.reply_json(404, {"code": "NotFound", "message": "No such path."})

    async def _generate(
        self, dialect: Dialect, request: Request, responder: Responder, entry: dict[str, Any]
    ) -> None:
        request_id = str(uuid.uuid4())
        retry_after: float | None = None
        try:
            scheme, _, key = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                raise BAD_KEY
            plan = plan_request(dialect, request.body, request.headers)
            directives = parse_directives(plan.prompt)
            retry_after = directives.retry_after
            fault = self._fault(directives, request)
            if fault in _HTTP_FAULTS:
                raise _HTTP_FAULTS[fault]
        except SimError as error:
            entry["outcome"] = f"error:{error.code}"
            headers = {"content-type": "application/json", "x-request-id": request_id}
            if error.status == 429 and retry_after is not None:
                headers["retry-after"] = f"{retry_after:g}"
            responder.reply(error.status, error.body(dialect, request_id), headers)
            return
        script = build_script(
            strip_directives(plan.prompt), directives, thinking=plan.thinking, budget=plan.budget,
            title=plan.asks_for_title,
        )  # fmt: skip
        if not plan.stream:
            self._whole(plan, script, responder)
            return
        try:
            stream = Stream(
                plan, script, directives, fault, responder, entry, rate=self.rate, trace=self.trace
            )
            await stream.run()
        finally:
            if self.trace is not None:
                self.trace.flush()

    def _fault(self, directives: Directives, request: Request) -> str | None:
        """Return the fault to inject into this attempt, counting ``times=K`` attempts."""
        if directives.fault is None or directives.times is None:
            return directives.fault
        key = hashlib.sha256(request.path.encode() + b"\0" + request.body).hexdigest()
        attempts = self._attempts.get(key, 0)
        self._attempts[key] = attempts + 1
        return directives.fault if attempts < directives.times else None

    def _whole(self, plan: Plan, script: Script, responder: Responder) -> None:
        tally = Tally(plan.input_tokens)
        tally.reasoning_tokens = len(script.reasoning)
        tally.answer_tokens = len(script.answer)
        fmt = format_for(plan)
        payload = fmt.whole(script.reasoning_text, script.answer_text, tally)
        responder.reply_json(200, payload)


async def _read(request: web.BaseRequest, responder: Responder) -> Request | None:
    """Return the whole request, or None when ``responder`` has already answered it."""
    try:
        return await Request.read(request)
    except web.HTTPRequestEntityTooLarge:
        responder.reply_json(413, {"code": "BadRequest", "message": "request body too large"})
    except ConnectionError:  # the client left mid-body, or shutdown dropped it
        responder.abort()
        responder.reply(400, b"")  # aiohttp wants a response; nobody is left to read it
    return None


def _clip(value: Any) -> Any:
    """Return ``value`` with long strings (base64 images) shortened, to bound the log."""
    if isinstance(value, str) and len(value) > MAX_LOGGED_STRING:
        return f"{value[:256]}…[{len(value)} chars]"
    if isinstance(value, list):
        return [_clip(item) for item in value]
    if isinstance(value, dict):
        return {key: _clip(item) for key, item in value.items()}
    return value
