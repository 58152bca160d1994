"""Route requests, log them for tests, inject faults and stream responses."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections import deque
from typing import Any, TextIO

from chat.upstream.request import DASHSCOPE_MULTIMODAL_PATH, DASHSCOPE_TEXT_PATH, OPENAI_PATH
from simulator.directives import Directives, parse_directives, strip_directives
from simulator.formats import DashScopeFormat, OpenAIFormat, Tally
from simulator.httpserver import BadHTTPRequest, Request, Responder, read_request
from simulator.script import Script, build_script
from simulator.validate import (
    BAD_KEY,
    INPUT_INSPECTION,
    INTERNAL,
    OUTPUT_INSPECTION,
    RATE_LIMITED,
    Dialect,
    Plan,
    SimError,
    plan_request,
)

logger = logging.getLogger(__name__)

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
_POLL = 0.05  # how often a long pause checks whether the client has gone


class Simulator:
    """The request handler: one per server, shared by all its connections."""

    def __init__(self, *, rate: float = 40.0, trace: TextIO | None = None) -> None:
        self.rate = rate
        # Opt-in (``--trace-file``): one line per streamed piece, for latency benchmarks.
        self.trace = trace
        self.requests: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)
        self._attempts: dict[str, int] = {}
        self._connections: set[asyncio.StreamWriter] = set()

    async def handle_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve requests on one keep-alive connection until either side closes it."""
        self._connections.add(writer)
        try:
            while True:
                responder = Responder(reader, writer)
                try:
                    request = await read_request(reader)
                except BadHTTPRequest as exc:
                    await responder.send_json(
                        exc.status, {"code": "BadRequest", "message": str(exc)}
                    )
                    break
                if request is None:
                    break
                await self.handle(request, responder)
                if responder.closed or not request.keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()

    def close_connections(self) -> None:
        """Drop every open connection (used on shutdown)."""
        for writer in list(self._connections):
            writer.close()

    async def handle(self, request: Request, responder: Responder) -> None:
        """Answer one request."""
        if request.path.startswith("/_sim/"):
            await self._introspect(request, responder)
            return
        dialect = ROUTES.get(request.path)
        entry = self._log(request)
        try:
            if dialect is None:
                await responder.send_json(404, {"code": "NotFound", "message": "No such path."})
            elif request.method != "POST":
                await responder.send_json(405, {"code": "MethodNotAllowed", "message": "POST"})
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

    async def _introspect(self, request: Request, responder: Responder) -> None:
        if request.path == "/_sim/health":
            await responder.send_json(200, {"status": "ok"})
        elif request.path == "/_sim/requests" and request.method == "GET":
            await responder.send_json(200, list(self.requests))
        elif request.path == "/_sim/requests" and request.method == "DELETE":
            self.requests.clear()
            self._attempts.clear()
            await responder.send(204, b"")
        else:
            await responder.send_json(404, {"code": "NotFound", "message": "No such path."})

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
            await responder.send(error.status, error.body(dialect, request_id), headers)
            return
        script = build_script(
            strip_directives(plan.prompt), directives, thinking=plan.thinking, budget=plan.budget,
            title=plan.asks_for_title,
        )  # fmt: skip
        if not plan.stream:
            await self._whole(plan, script, responder)
            return
        try:
            await Stream(self, plan, script, directives, fault, responder, entry).run()
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

    async def _whole(self, plan: Plan, script: Script, responder: Responder) -> None:
        tally = Tally(plan.input_tokens)
        tally.reasoning_tokens = len(script.reasoning)
        tally.answer_tokens = len(script.answer)
        fmt = _format(plan)
        payload = fmt.whole(script.reasoning_text, script.answer_text, tally)
        await responder.send_json(200, payload)


def _clip(value: Any) -> Any:
    """Return ``value`` with long strings (base64 images) shortened, to bound the log."""
    if isinstance(value, str) and len(value) > MAX_LOGGED_STRING:
        return f"{value[:256]}…[{len(value)} chars]"
    if isinstance(value, list):
        return [_clip(item) for item in value]
    if isinstance(value, dict):
        return {key: _clip(item) for key, item in value.items()}
    return value


def _format(plan: Plan) -> OpenAIFormat | DashScopeFormat:
    if plan.dialect == "openai":
        return OpenAIFormat(plan.model.id, include_usage=plan.include_usage)
    return DashScopeFormat(multimodal=plan.dialect == "multimodal", incremental=plan.incremental)


class Stream:
    """One streamed response, token by token, with its fault (if any)."""

    def __init__(
        self,
        simulator: Simulator,
        plan: Plan,
        script: Script,
        directives: Directives,
        fault: str | None,
        responder: Responder,
        entry: dict[str, Any],
    ) -> None:
        self.plan = plan
        self.script = script
        self.directives = directives
        self.fault = fault
        self.responder = responder
        self.entry = entry
        self.format = _format(plan)
        self.tally = Tally(plan.input_tokens)
        self.trace = simulator.trace
        rate = directives.rate if directives.rate is not None else simulator.rate
        self.interval = 1.0 / rate if rate > 0 else 0.0

    async def run(self) -> None:
        """Stream the script; apply the fault when ``after`` pieces have been sent."""
        responder = self.responder
        await responder.start_stream(
            {
                "content-type": self.format.content_type,
                "cache-control": "no-cache",
                "x-request-id": self.format.request_id,
            }
        )
        await self._write(self.format.opening())
        pieces = [("reasoning", p) for p in self.script.reasoning]
        pieces += [("answer", p) for p in self.script.answer]
        started = time.monotonic()
        for index, (channel, text) in enumerate(pieces):
            if index == self.directives.after and await self._apply_fault():
                return
            await self._pace(started, index)
            self.tally.add(channel)
            written_at = time.time()
            await self._write(self.format.piece(channel, text, self.tally))
            if self.trace is not None:  # "<request id> <piece index> <unix time>"
                self.trace.write(f"{self.format.request_id} {index} {written_at:.6f}\n")
            self.entry["pieces_sent"] = index + 1
            if responder.closed:
                return
        if self.directives.after >= len(pieces) and await self._apply_fault():
            return
        await self._write(self.format.closing(self.tally))
        await responder.end_stream()
        if not responder.closed:
            self.entry["outcome"] = "completed"

    async def _write(self, data: bytes) -> None:
        if data:
            await self.responder.write_chunk(data, split_utf8=self.directives.split_utf8)

    async def _pace(self, started: float, index: int) -> None:
        if not self.interval:
            await asyncio.sleep(0)  # let other streams run between chunks
            return
        delay = started + (index + 1) * self.interval - time.monotonic()
        if delay > 0:
            await self._pause(delay)

    async def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.responder.client_gone:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, _POLL))

    async def _apply_fault(self) -> bool:
        """Inject the mid-stream fault; return True when the response is over."""
        fault, responder = self.fault, self.responder
        if fault == "disconnect":
            self.entry["outcome"] = "fault:disconnect"
            responder.abort()
            return True
        if fault == "stall":
            await self._pause(self.directives.seconds)
            return responder.closed or responder.client_gone
        if fault == "malformed":
            await self._write(self.format.malformed())
            return False
        if fault == "stream_error":
            self.entry["outcome"] = "fault:stream_error"
            error = OUTPUT_INSPECTION
            if isinstance(self.format, OpenAIFormat):
                data = self.format.error(error.oa_code, error.oa_type, error.oa_message)
            else:
                data = self.format.error(error.code, error.status, error.message)
            await self._write(data)
            await responder.end_stream()
            return True
        return False
