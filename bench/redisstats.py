"""What Redis saw during a round: commands per type, and the channel-layer backlog.

channels_redis keeps every message for one daphne process in one sorted set,
``asgispecific.<process id>!`` (capacity and expiry from ``CHANNEL_LAYERS`` apply
to that one key, shared by every websocket of the process). Sampling its size shows
how far daphne's receive loop is behind the worker; ``celery`` is the broker queue.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import redis


def command_stats(client: redis.Redis) -> dict[str, dict[str, float]]:
    stats = client.info("commandstats")
    return {
        key.removeprefix("cmdstat_"): {"calls": value["calls"], "usec": value["usec"]}
        for key, value in stats.items()
    }


def command_delta(
    before: dict[str, dict[str, float]],
    after: dict[str, dict[str, float]],
    exclude: Counter[str] | None = None,
) -> dict[str, dict[str, float]]:
    """Calls and microseconds per command between two readings, less ``exclude`` calls."""
    delta = {}
    for name, value in after.items():
        calls = value["calls"] - before.get(name, {}).get("calls", 0)
        calls -= (exclude or Counter())[name] + (1 if name == "info" else 0)
        usec = value["usec"] - before.get(name, {}).get("usec", 0)
        if calls:
            delta[name] = {"calls": calls, "usec": usec}
    return dict(sorted(delta.items(), key=lambda item: -item[1]["calls"]))


class BacklogSampler:
    """Sample the channel-layer backlog and the Celery queue every ``interval`` seconds."""

    def __init__(self, url: str, interval: float = 0.2) -> None:
        self.client = redis.Redis.from_url(url)
        self.interval = interval
        self.started = time.time()
        self.samples: list[tuple[float, int, int]] = []  # (t, channel backlog, celery queue)
        self.own_calls: Counter[str] = Counter()  # to take out of the command statistics
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="redis-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                # channels_redis joins prefix and channel with no separator: "asgispecific.…!"
                keys = [k for k in self.client.keys("asgispecific.*") if b"$inflight" not in k]
                backlog = sum(self.client.zcard(k) for k in keys)
                queued = self.client.llen("celery")
                self.own_calls.update({"keys": 1, "zcard": len(keys), "llen": 1})
                self.samples.append((round(time.time() - self.started, 2), backlog, queued))
            except redis.RedisError:
                pass
            self._stop.wait(self.interval)

    def __enter__(self) -> BacklogSampler:
        self.started = time.time()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.client.close()

    def summary(self) -> dict[str, Any]:
        return {
            "channel_backlog_max": max((b for _t, b, _q in self.samples), default=0),
            "celery_queue_max": max((q for _t, _b, q in self.samples), default=0),
            # every second sample: (seconds into the round, backlog, queued tasks)
            "timeline": self.samples[::5],
        }
