"""The bounded worker pool: at most N at once, a bounded waiting line, waits bounded by a deadline."""

import asyncio
import threading

import pytest

from photochanger.clock import Clock
from photochanger.deadline import Deadline
from photochanger.workers import PoolBusy, WorkerPool


async def test_calls_beyond_the_waiting_line_are_refused_and_late_ones_never_start():
    pool = WorkerPool("test", workers=1, max_waiting=1)
    release = threading.Event()
    started = []

    def work(name: str) -> str:
        started.append(name)
        release.wait(5)
        return name

    running = asyncio.create_task(pool.run(work, "first"))
    await asyncio.sleep(0.05)
    waiting = asyncio.create_task(pool.run(work, "second"))
    await asyncio.sleep(0)
    with pytest.raises(PoolBusy):
        await pool.run(work, "third")  # one runs, one waits: the line is full
    passed = Deadline.after(-1.0, clock=Clock())  # a deadline already gone
    waiting_line_full = pool.waiting
    release.set()
    assert await running == "first" and await waiting == "second"
    assert waiting_line_full == 1
    pool_after = WorkerPool("test", workers=1, max_waiting=4)
    blocker = threading.Event()
    first = asyncio.create_task(pool_after.run(blocker.wait, 5))
    await asyncio.sleep(0.05)
    with pytest.raises(TimeoutError):
        await pool_after.run(work, "late", deadline=passed)  # would only start after its deadline
    blocker.set()
    await first
    assert started == ["first", "second"]  # "third" and "late" never ran
    pool.shutdown()
    pool_after.shutdown()
