"""The throttles of clients without credentials on an injected clock: the memory store of the
throttle interface, its database store (real SQLite and PostgreSQL), the password guard, the gate
of uploads not yet authenticated and the refusal log."""

import asyncio
import uuid

import pytest

from photochanger.clock import Clock
from photochanger.throttle.service import (
    DatabaseWindow,
    Evicted,
    PasswordGuard,
    RefusalLog,
    SlidingWindow,
    TooSlow,
    UploadGate,
)


class StepClock(Clock):
    """A clock moved by hand (seconds)."""

    def __init__(self) -> None:
        super().__init__()
        self.at = 1000.0

    def monotonic(self) -> float:
        return self.at


async def test_a_sliding_window_counts_before_the_check_and_frees_as_events_age():
    clock = StepClock()
    window = SlidingWindow(clock, limit=3, window=300)
    assert [await window.reserve("10.0.0.1") for _ in range(3)] == [None, None, None]
    clock.at += 30
    assert await window.reserve("10.0.0.1") == 271  # first event at 1000 leaves at 1300; now 1030
    assert window.count("10.0.0.1") == 3  # a refusal is not counted
    assert await window.reserve("10.0.0.2") is None  # another key is not affected
    await window.forgive("10.0.0.2")
    assert window.count("10.0.0.2") == 0
    clock.at = 1300.5
    assert await window.retry_after("10.0.0.1") is None and await window.reserve("10.0.0.1") is None


async def test_a_sliding_window_bounds_its_memory_by_dropping_the_least_recent_keys():
    window = SlidingWindow(StepClock(), limit=1, window=300, max_keys=2)
    for key in ("a", "b", "c"):
        await window.reserve(key)
    assert await window.retry_after("a") is None and await window.retry_after("c") is not None


async def test_the_database_store_is_shared_by_processes_and_exact_under_parallel_reservations(service):
    clock = StepClock()
    scope = f"t{uuid.uuid4().hex[:12]}"
    first, second = (DatabaseWindow(service.db, clock, scope, limit=5, window=300) for _ in range(2))
    answers = await asyncio.gather(*(window.reserve("10.0.0.1") for window in [first, second] * 10))
    assert answers.count(None) == 5  # two "processes", twenty at once: five places in all
    assert set(answers) - {None} == {301}  # whole seconds until the oldest leaves the window
    assert await second.reserve("10.0.0.2") is None  # another key is not affected
    await first.forgive("10.0.0.1")  # a success gives its place back, seen by the other process
    assert await second.retry_after("10.0.0.1") is None
    assert await second.reserve("10.0.0.1") is None and await first.retry_after("10.0.0.1") == 301
    clock.at += 299.5
    assert await first.reserve("10.0.0.1") == 1
    clock.at += 1
    assert await first.reserve("10.0.0.1") is None  # the first events left the window


async def test_the_database_store_never_refuses_longer_than_its_window_when_the_clock_steps_back(service):
    clock = StepClock()
    scope = f"t{uuid.uuid4().hex[:12]}"
    window = DatabaseWindow(service.db, clock, scope, limit=2, window=300)
    assert [await window.reserve("k") for _ in range(3)] == [None, None, 301]
    clock.at -= 3600  # NTP stepped the wall clock back an hour: events "from the future" do not count
    assert await window.reserve("k") is None


async def test_the_database_store_prunes_what_left_the_window(service):
    clock = StepClock()
    scope = f"t{uuid.uuid4().hex[:12]}"
    window = DatabaseWindow(service.db, clock, scope, limit=10, window=60)
    for key in ("a", "b", "c"):
        await window.reserve(key)
    clock.at += 30
    await window.reserve("a")
    clock.at += 31
    assert await window.prune() == 3  # the three of 61 s ago; the one of 31 s ago stays
    assert await window.retry_after("a") is None


def _right(value: str) -> bool:
    return value == "the-right-one"


def test_a_guesser_gets_limit_new_passwords_then_none_until_the_window_moves():
    clock = StepClock()
    guard = PasswordGuard(clock, limit=20, window=300)
    verdicts = [guard.check("203.0.113.9", f"guess-{n}", _right) for n in range(120)]
    assert verdicts[:20] == [False] * 20  # checked (401)
    assert all(isinstance(v, int) and v is not True and v is not False and v > 0 for v in verdicts[20:])  # 429
    assert guard.check("203.0.113.9", "the-right-one", _right) == 301  # a new password from a blocked address
    clock.at += 301
    assert guard.check("203.0.113.9", "guess-999", _right) is False  # the window moved on


def test_a_booth_repeating_its_old_password_counts_once_and_never_blocks_its_neighbours():
    guard = PasswordGuard(StepClock(), limit=20, window=300)
    for _ in range(200):
        assert guard.check("198.51.100.7", "last-weeks-password", _right) is False
    assert not guard.blocked("198.51.100.7")
    assert guard.check("198.51.100.7", "the-right-one", _right) is True


def test_a_booth_that_succeeded_before_a_flood_keeps_working_behind_the_same_address():
    guard = PasswordGuard(StepClock(), limit=20, window=300)
    studio = "198.51.100.8"
    assert guard.check(studio, "the-right-one", _right) is True
    for n in range(60):
        guard.check(studio, f"guess-{n}", _right)
    assert guard.blocked(studio)
    assert [guard.check(studio, "the-right-one", _right) for _ in range(10)] == [True] * 10
    assert guard.check(studio, "guess-0", _right) is False  # an old guess is only checked again: nothing new learnt


def test_the_gate_evicts_the_slowest_upload_past_its_grace_when_a_newcomer_needs_a_place():
    clock = StepClock()
    gate = UploadGate(clock, limit=3, grace=5, min_rate=100, max_seconds=60)
    fast, slow, slower = gate.enter(), gate.enter(), gate.enter()
    woken = []
    slower.wake = lambda: woken.append("slower")
    clock.at += 6
    fast.got(60_000)
    slow.got(700)
    slower.got(1)
    newcomer = gate.enter()
    assert slower.evicted and woken == ["slower"] and gate.holders == 3
    with pytest.raises(Evicted):
        slower.check()
    newcomer.check()  # a newcomer within its grace is never the one evicted while older ones are slower
    assert not fast.evicted and not slow.evicted


def test_when_every_holder_is_within_its_grace_the_oldest_gives_way():
    clock = StepClock()
    gate = UploadGate(clock, limit=2, grace=5, min_rate=100, max_seconds=60)
    first, second = gate.enter(), gate.enter()
    clock.at += 1
    gate.enter()
    assert first.evicted and not second.evicted


def test_an_upload_before_its_password_has_a_minimum_rate_after_the_grace_and_a_total_time():
    clock = StepClock()
    gate = UploadGate(clock, limit=8, grace=5, min_rate=100, max_seconds=60)
    place = gate.enter()
    assert place.must_arrive_by() == 1005  # the grace
    place.got(999)
    assert place.must_arrive_by() == 1010  # 1,000 bytes at 100 B/s
    clock.at = 1010
    with pytest.raises(TooSlow):
        place.check()
    big = gate.enter()
    big.got(10**9)
    assert big.must_arrive_by() == 1070  # the total time, however fast
    big.leave()
    clock.at = 2000
    big.check()  # past its password: no more bounds of the gate
    assert gate.holders == 1


def test_refusals_are_aggregated_per_address_and_reason_newest_first():
    log = RefusalLog(StepClock(), max_entries=2)
    for _ in range(500):
        log.add("203.0.113.1", "invalid_password", 401, "slot-001")
    log.add("203.0.113.2", "rate_limited", 429, "slot-002")
    log.add("203.0.113.3", "invalid_password", 401, "slot-003")
    recent = log.recent()
    assert [(r.client_ip, r.count) for r in recent] == [("203.0.113.3", 1), ("203.0.113.2", 1)]
