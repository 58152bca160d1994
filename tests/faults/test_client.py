"""The reference client against a scripted websocket server: gaps, snapshots, duplicates,
reconnects and events after the terminal status, handled as docs/api.md says.

Today's server never sends a ``snapshot`` nor leaves a gap open on purpose, so the fault
tests alone would not show that the client gets those right.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import pytest
from websockets.asyncio.server import ServerConnection, serve

from tests.faults.client import FollowingClient
from tests.live import free_port

GAP, RECONNECT, QUIET = "gap-and-snapshot", "reconnect", "quiet"


def delta(message_id: str, seq: int, reasoning: str = "", content: str = "") -> dict:
    return {
        "type": "delta",
        "message_id": message_id,
        "seq": seq,
        "reasoning": reasoning,
        "content": content,
    }


def status(message_id: str, seq: int, value: str) -> dict:
    return {"type": "status", "message_id": message_id, "seq": seq, "status": value}


class ScriptedServer:
    """Answers each ``resume`` by the script of its message; records what it was asked."""

    def __init__(self) -> None:
        self.port = free_port()
        self.resumes: list[tuple[str, int]] = []
        self.connections = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self.stop = asyncio.Event()
        async with serve(self._handle, "127.0.0.1", self.port):
            self.ready.set()
            await self.stop.wait()

    async def _send(self, ws: ServerConnection, *events: dict) -> None:
        for event in events:
            await ws.send(json.dumps(event))

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        async for raw in ws:
            request = json.loads(raw)
            message_id, after = request["message_id"], request["after_seq"]
            self.resumes.append((message_id, after))
            if message_id == GAP and after == 0:
                # seq 3 goes missing: the client must not apply 4, and must ask again
                await self._send(ws, delta(GAP, 1, "a"), delta(GAP, 2, "b"), delta(GAP, 4, "d"))
            elif message_id == GAP:
                # The server cannot replay 3: a snapshot replaces the text, then the end,
                # then an event that must never come after it.
                await self._send(
                    ws,
                    {
                        "type": "snapshot",
                        "message_id": GAP,
                        "seq": 5,
                        "reasoning": "abcde",
                        "content": "X",
                        "status": "streaming",
                    },
                    status(GAP, 6, "complete"),
                    delta(GAP, 7, "", "late"),
                )
            elif message_id == RECONNECT and after == 0:
                await self._send(ws, delta(RECONNECT, 1, "r1"))
                await ws.close()
                return
            elif message_id == RECONNECT:
                await self._send(ws, delta(RECONNECT, 2, "", "c2"), status(RECONNECT, 3, "failed"))
            elif message_id == QUIET and after == 0:
                await self._send(ws, delta(QUIET, 1, "q"))  # then silence
            elif message_id == QUIET:
                await self._send(ws, delta(QUIET, 1, "q"), status(QUIET, 2, "cancelled"))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.close()


@pytest.fixture
def client(server) -> Iterator[FollowingClient]:
    following = FollowingClient(f"http://127.0.0.1:{server.port}", {"sessionid": "x"})
    yield following
    following.close()


def follow(client: FollowingClient, message_id: str) -> None:
    client.follow(f"conversation-{message_id}")
    assert client.wait_until(lambda: client.all_connected([f"conversation-{message_id}"]), 5)
    client.track(f"conversation-{message_id}", message_id)
    assert client.wait_until(lambda: client.all_finished([message_id]), 8), client.track_of(
        message_id
    ).tail()


def test_a_gap_is_not_applied_and_a_snapshot_fills_it(server, client):
    follow(client, GAP)
    client.wait_until(lambda: bool(client.track_of(GAP).after_terminal), 2)
    track = client.track_of(GAP)
    assert (GAP, 2) in server.resumes  # asked again from the last seq it applied
    assert (track.reasoning, track.content, track.status) == ("abcde", "X", "complete")
    assert track.terminal_seq == 6 and track.snapshots == 1 and track.gaps == 1
    assert len(track.after_terminal) == 1 and "delta seq=7" in track.after_terminal[0]


def test_a_dropped_socket_reconnects_and_resumes_from_the_last_seq(server, client):
    follow(client, RECONNECT)
    track = client.track_of(RECONNECT)
    assert server.connections >= 2 and (RECONNECT, 1) in server.resumes
    assert (track.reasoning, track.content, track.status) == ("r1", "c2", "failed")


def test_a_quiet_message_is_asked_for_again_and_duplicates_are_dropped(server, client):
    follow(client, QUIET)
    track = client.track_of(QUIET)
    assert (QUIET, 1) in server.resumes
    assert (track.reasoning, track.status, track.duplicates) == ("q", "cancelled", 1)
    assert not track.after_terminal
