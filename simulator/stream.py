"""Stream one response token by token, pacing it and injecting its mid-stream fault."""

from __future__ import annotations

import asyncio
import time
from typing import Any, TextIO

from simulator.directives import Directives
from simulator.formats import DashScopeFormat, OpenAIFormat, Tally
from simulator.responder import Responder
from simulator.script import Script
from simulator.validate import OUTPUT_INSPECTION, Plan

_POLL = 0.05  # how often a long pause checks whether the client has gone


def format_for(plan: Plan) -> OpenAIFormat | DashScopeFormat:
    """Return the wire format the request's protocol answers in."""
    if plan.dialect == "openai":
        return OpenAIFormat(plan.model.id, include_usage=plan.include_usage)
    return DashScopeFormat(multimodal=plan.dialect == "multimodal", incremental=plan.incremental)


class Stream:
    """One streamed response, token by token, with its fault (if any)."""

    def __init__(
        self,
        plan: Plan,
        script: Script,
        directives: Directives,
        fault: str | None,
        responder: Responder,
        entry: dict[str, Any],
        *,
        rate: float,
        trace: TextIO | None,
    ) -> None:
        self.plan = plan
        self.script = script
        self.directives = directives
        self.fault = fault
        self.responder = responder
        self.entry = entry
        self.format = format_for(plan)
        self.tally = Tally(plan.input_tokens)
        self.trace = trace
        rate = directives.rate if directives.rate is not None else rate
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
