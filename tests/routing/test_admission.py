"""Admission to the in-flight limits: first come first served, waiting while it fits the deadline,
429 only when it cannot; places shared by processes through the database."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from photochanger import migrations
from photochanger.clock import Clock
from photochanger.db import Database
from photochanger.deadline import Deadline
from photochanger.routing.admission import LATE, Admission, DatabasePermitStore, LimitReached, MemoryPermitStore
from tests.conftest import PG_URL
from tests.tools.postgres import fresh_database

LIMITS = {"slot:slot-001": 1, "provider:gemini": 2}


@pytest.mark.looptime
@pytest.mark.asyncio(loop_scope="function")
async def test_a_full_slot_queues_in_arrival_order_and_records_the_wait():
    clock = Clock()
    admission = Admission(MemoryPermitStore(), clock)
    order: list[tuple[str, float]] = []

    async def photo(name: str, arrive: float) -> float:
        await asyncio.sleep(arrive)
        async with admission.hold(LIMITS, name, Deadline.after(48, clock=clock), typical=2.0) as admitted:
            order.append((name, clock.monotonic()))
            await asyncio.sleep(2.0)
        return admitted.queue_seconds

    start = clock.monotonic()
    waits = await asyncio.gather(photo("a", 0), photo("b", 0.1), photo("c", 0.2))
    assert [name for name, _ in order] == ["a", "b", "c"]
    assert [round(at - start, 3) for _, at in order] == [0, 2.0, 4.0]
    assert waits == [0, pytest.approx(1.9), pytest.approx(3.8)]


@pytest.mark.looptime
@pytest.mark.asyncio(loop_scope="function")
async def test_late_work_waits_behind_every_booth_even_one_that_came_later():
    clock = Clock()
    admission = Admission(MemoryPermitStore(), clock)
    order: list[tuple[str, float]] = []

    async def photo(name: str, arrive: float, priority: int = 0) -> None:
        await asyncio.sleep(arrive)
        place = await admission.acquire(LIMITS, name, Deadline.after(600, clock=clock), 2.0, priority=priority)
        order.append((name, clock.monotonic()))
        await asyncio.sleep(2.0)
        await place.release()
        await place.release()  # idempotent

    start = clock.monotonic()
    await asyncio.gather(photo("booth-a", 0), photo("late", 0.1, LATE), photo("booth-b", 1.0), photo("booth-c", 3.0))
    assert [(name, round(at - start, 3)) for name, at in order] == [
        ("booth-a", 0),
        ("booth-b", 2.0),  # arrived after the late work, went first
        ("booth-c", 4.0),
        ("late", 6.0),
    ]


@pytest.mark.looptime
@pytest.mark.asyncio(loop_scope="function")
async def test_a_booth_counts_no_late_work_ahead_of_it_when_it_judges_the_wait():
    clock = Clock()
    admission = Admission(MemoryPermitStore(), clock)
    held = await admission.acquire(LIMITS, "a", Deadline.after(60, clock=clock), 3.0)
    late = [
        asyncio.create_task(
            admission.acquire(LIMITS, f"late-{n}", Deadline.after(600, clock=clock), 3.0, priority=LATE)
        )
        for n in range(5)
    ]
    await asyncio.sleep(0.01)
    booth = asyncio.create_task(admission.acquire(LIMITS, "booth", Deadline.after(10, clock=clock), 3.0))
    await asyncio.sleep(1)
    await held.release()  # five late waiters ahead in time; the booth (3 + 3 + 1 ≤ 10 s) is not refused
    place = await booth
    assert place.queue_seconds == pytest.approx(1.0, abs=0.3)
    await place.release()
    for task in late:
        await (await task).release()


@pytest.mark.looptime
@pytest.mark.asyncio(loop_scope="function")
async def test_refused_at_once_with_retry_after_when_the_wait_cannot_fit():
    clock = Clock()
    admission = Admission(MemoryPermitStore(), clock)
    async with admission.hold(LIMITS, "a", Deadline.after(48, clock=clock), typical=6.0):
        start = clock.monotonic()
        with pytest.raises(LimitReached) as refused:
            async with admission.hold(LIMITS, "b", Deadline.after(10, clock=clock), typical=6.0):
                pass
        assert clock.monotonic() == start and refused.value.scope == "slot" and refused.value.retry_after == 6


@pytest.mark.looptime
@pytest.mark.asyncio(loop_scope="function")
async def test_a_waiter_gives_up_when_the_deadline_no_longer_fits():
    clock = Clock()
    admission = Admission(MemoryPermitStore(), clock)

    async def hog():
        async with admission.hold(LIMITS, "a", Deadline.after(60, clock=clock), typical=1.0):
            await asyncio.sleep(30)

    task = asyncio.create_task(hog())
    await asyncio.sleep(0.01)
    start = clock.monotonic()
    with pytest.raises(LimitReached):
        async with admission.hold(LIMITS, "b", Deadline.after(10, clock=clock), typical=1.0):
            pass
    waited = clock.monotonic() - start
    assert 7.0 <= waited <= 7.5  # until expected wait (1) + typical (1) + margin (1) no longer fit 10 s
    await task


async def test_places_are_shared_by_processes_through_the_database(service):
    first, second = (Admission(DatabasePermitStore(service.db), Clock()) for _ in range(2))
    scope = f"slot:test-{uuid.uuid4().hex[:8]}"
    limits = {scope: 1}
    async with first.hold(limits, "job-a", Deadline.after(30), typical=1.0):
        with pytest.raises(LimitReached):  # the other "process" sees the place taken
            async with second.hold(limits, "job-b", Deadline.after(2.5), typical=1.0):
                pass
    async with second.hold(limits, "job-c", Deadline.after(5), typical=1.0) as admitted:
        assert admitted.queue_seconds < 1.0  # released by the first: no wait


class SlowStore(MemoryPermitStore):
    """Places taken in 10 ms, like a database round trip."""

    async def try_acquire(self, limits, job_id, now, expires_at):
        await asyncio.sleep(0.01)
        return await super().try_acquire(limits, job_id, now, expires_at)


@pytest.mark.looptime
@pytest.mark.asyncio(loop_scope="function")
async def test_a_burst_below_the_limits_is_never_refused_while_places_are_being_taken():
    clock = Clock()
    admission = Admission(SlowStore(), clock)
    limits = {"slot:slot-003": 64, "provider:gemini": 32}

    async def photo(name: str) -> float:
        async with admission.hold(limits, name, Deadline.after(10, clock=clock), typical=8.0) as admitted:
            await asyncio.sleep(5)
        return admitted.queue_seconds

    waits = await asyncio.gather(*(photo(f"p{n}") for n in range(25)))
    assert max(waits) == pytest.approx(0.25)  # 25 round trips of 10 ms, in arrival order


@pytest.mark.skipif(not PG_URL, reason="PHOTOCHANGER_TEST_POSTGRES_URL not set (needs PostgreSQL)")
async def test_places_given_back_while_the_database_refuses_connections_are_free_once_it_is_back():
    """A database restart must not leave a slot's places taken until the permits expire (booths
    behind them would wait out their deadline and get 429)."""
    import asyncpg
    from sqlalchemy import make_url

    async with fresh_database(PG_URL) as url:
        await migrations.upgrade_async(url)
        db, name = Database(url), make_url(url).database
        admin = await asyncpg.connect(make_url(PG_URL).set(drivername="postgresql").render_as_string(False))
        try:
            store, scope = DatabasePermitStore(db), f"slot:test-{uuid.uuid4().hex[:8]}"
            now = datetime.now(UTC)
            later = now + timedelta(minutes=5)
            taken = await store.try_acquire({scope: 1}, "job-a", now, later)
            assert isinstance(taken, list)
            await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
            await store.release(taken)  # the database refuses: kept, no error for the request that ends
            await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
            assert isinstance(await store.try_acquire({scope: 1}, "job-b", now, later), list)  # the place is free
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
            await admin.close()
            await db.dispose()
