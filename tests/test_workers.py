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


async def _until(condition, turns: int = 500) -> None:
    """Let the loop and the worker threads run until ``condition()`` (bounded: no clock involved)."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


async def test_a_turn_is_given_back_when_the_work_ends_not_when_its_caller_stops_waiting():
    pool = WorkerPool("test", workers=1, max_waiting=4)
    release, started = threading.Event(), []

    def work(name: str) -> str:
        started.append(name)
        release.wait(10)
        return name

    abandoned = asyncio.create_task(pool.run(work, "abandoned"))
    await _until(lambda: started == ["abandoned"])
    abandoned.cancel()  # the guest's deadline passed: the caller stops waiting, the thread runs on
    with pytest.raises(asyncio.CancelledError):
        await abandoned
    later = asyncio.create_task(pool.run(work, "later"))
    for _ in range(20):
        await asyncio.sleep(0)
    assert started == ["abandoned"]  # no second call on the one worker while the first still runs
    release.set()
    assert await later == "later"


async def test_heavy_work_always_leaves_one_worker_for_small_photos():
    pool = WorkerPool("test", workers=2, max_waiting=8)
    release, started = threading.Event(), []

    def work(name: str) -> str:
        started.append(name)
        if name.startswith("heavy"):
            release.wait(10)
        return name

    heavy = [asyncio.create_task(pool.run(work, f"heavy-{n}", heavy=True)) for n in range(3)]
    await _until(lambda: started == ["heavy-0"])
    assert await pool.run(work, "small") == "small"  # answered while the heavy frames wait their turn
    assert started == ["heavy-0", "small"]
    release.set()
    assert [await task for task in heavy] == ["heavy-0", "heavy-1", "heavy-2"]


async def test_background_work_starts_only_while_no_other_call_waits_and_a_worker_is_free():
    pool = WorkerPool("test", workers=2, max_waiting=16)
    gates = {name: threading.Event() for name in ("booth-0", "booth-1", "booth-2")}
    started: list[str] = []

    def work(name: str) -> str:
        started.append(name)
        if name in gates:
            gates[name].wait(10)
        return name

    booths = [asyncio.create_task(pool.run(work, "booth-0")), asyncio.create_task(pool.run(work, "booth-1"))]
    await _until(lambda: len(started) == 2)
    late = asyncio.create_task(pool.run(work, "late", background=True))  # both workers busy: it waits
    booths.append(asyncio.create_task(pool.run(work, "booth-2")))  # came later, goes first
    await asyncio.sleep(0.05)
    gates["booth-0"].set()
    await _until(lambda: "booth-2" in started)
    await asyncio.sleep(0.05)
    assert "late" not in started  # a worker came free, but a booth was waiting for it
    gates["booth-1"].set()
    assert await late == "late"  # a worker free and nobody waiting: now it runs
    assert started == ["booth-0", "booth-1", "booth-2", "late"]
    gates["booth-2"].set()
    assert [await task for task in booths] == ["booth-0", "booth-1", "booth-2"]
