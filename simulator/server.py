"""Run the simulator: as a CLI process, or in a background thread for tests."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from simulator.app import Simulator

DEFAULT_RATE = 40.0


async def start_server(
    simulator: Simulator, host: str = "127.0.0.1", port: int = 0
) -> asyncio.Server:
    """Start listening; the caller owns the returned server."""
    return await asyncio.start_server(
        simulator.handle_connection, host, port, limit=2**16, backlog=1024
    )


def _url(server: asyncio.Server) -> str:
    host, port = server.sockets[0].getsockname()[:2]
    return f"http://{host}:{port}"


async def serve(host: str, port: int, rate: float, trace: TextIO | None = None) -> None:
    """Serve until SIGINT or SIGTERM; print the listening line first."""
    simulator = Simulator(rate=rate, trace=trace)
    server = await start_server(simulator, host, port)
    print(f"SIMULATOR_LISTENING {_url(server)}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()
        server.close()
        simulator.close_connections()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator from the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="A local Model Studio stand-in speaking both wire protocols.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help="token pieces per second per stream; 0 = as fast as possible",
    )
    parser.add_argument(
        "--trace-file",
        metavar="PATH",
        help="append '<request id> <piece index> <unix time>' per streamed piece (benchmarks)",
    )
    args = parser.parse_args(argv)
    trace = open(args.trace_file, "a", encoding="utf-8") if args.trace_file else None  # noqa: SIM115
    try:
        asyncio.run(serve(args.host, args.port, args.rate, trace))
    except KeyboardInterrupt:
        pass
    finally:
        if trace is not None:
            trace.close()
    return 0


class SimulatorThread:
    """The simulator on its own event loop in a daemon thread.

    ``base_url = sim.start()`` … ``sim.stop()``, or use it as a context manager.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, rate: float = 0.0) -> None:
        self.host = host
        self.port = port
        self.simulator = Simulator(rate=rate)
        self.base_url = ""
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    def start(self) -> str:
        """Start serving and return the base URL (``http://127.0.0.1:PORT``)."""
        self._thread = threading.Thread(target=self._run, name="upstream-simulator", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError("the simulator did not start") from self._error
        return self.base_url

    def stop(self) -> None:
        """Stop serving, drop open connections and join the thread."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> SimulatorThread:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start(); a thread has nowhere else to raise
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await start_server(self.simulator, self.host, self.port)
        self.base_url = _url(server)
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()
            self.simulator.close_connections()
        # Let the connection handlers see their closed sockets and finish.
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


if __name__ == "__main__":
    sys.exit(main())
