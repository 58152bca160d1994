"""The workers run the retention policy once a day, whichever of them gets there first."""

from __future__ import annotations

from datetime import date

import pytest

from chat.streaming import bus
from chat.streaming.pipeline.daily import run_daily_once

DAY = date(2000, 1, 1)  # a day no real worker takes


async def inline(fn, *args, **kwargs):
    return fn(*args, **kwargs)


@pytest.fixture
async def clean_day():
    client = bus.async_redis()
    await client.delete(bus.daily_key(DAY), bus.daily_key(date(2000, 1, 2)))
    yield
    await client.delete(bus.daily_key(DAY), bus.daily_key(date(2000, 1, 2)))


async def test_two_workers_on_one_day_run_it_once(clean_day):
    runs: list[str] = []
    first = await run_daily_once(inline, lambda: runs.append("a"), DAY)
    second = await run_daily_once(inline, lambda: runs.append("b"), DAY)
    assert (first, second, runs) == (True, False, ["a"])
    assert await bus.async_redis().ttl(bus.daily_key(DAY)) > 86400


async def test_the_next_day_runs_again(clean_day):
    runs: list[date] = []
    for day in (DAY, DAY, date(2000, 1, 2)):
        await run_daily_once(inline, lambda d=day: runs.append(d), day)
    assert runs == [DAY, date(2000, 1, 2)]
