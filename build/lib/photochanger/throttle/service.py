"""What clients without credentials may cost.

* :class:`Throttle` — the one interface of a rate limit: events per key within a window,
  **counted before the check** they limit (:meth:`Throttle.reserve`), so N parallel requests get
  at most ``limit`` checks; a success gives its place back (:meth:`Throttle.forgive`). Two stores:
  :class:`SlidingWindow` counts in memory (one process: SQLite), :class:`DatabaseWindow` in rows
  every process shares (PostgreSQL, ``serve --workers N`` or replicas). Used for logins (per
  username and IP, and per IP), the public gallery (requests per IP) and a shared gallery's PIN
  (wrong PINs per share, from every address together).
* :class:`PasswordGuard` — wrong ingest passwords per client IP, counting *distinct* passwords
  (see the class). In memory on every backend: a flood of guesses must never compete with the
  booths for the database, and a guesser spread over N processes still gets at most N × limit.
* :class:`UploadGate` — uploads still streaming before their password is verified: bounded in
  number, each with a total time and a minimum rate, and the slowest evicted when a newcomer needs
  the place.
* :class:`RefusalLog` — refused booth requests aggregated per address and reason, for the admin's
  "last booth requests" (a guessing flood is one line per address, not a thousand rows).

All times come from an injected :class:`~photochanger.clock.Clock`.
"""

import hashlib
import hmac
import secrets
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from cachetools import LRUCache

from photochanger.clock import Clock
from photochanger.db import Database
from photochanger.throttle import repository

V = TypeVar("V")


def _touch(entries: "LRUCache[str, V]", key: str, new: Callable[[], V]) -> V:
    """``entries[key]`` (made with ``new()`` if missing), marked most recently used; the least
    recently used entry is dropped when ``entries`` is full."""
    value = entries.get(key)
    if value is None:
        value = entries[key] = new()
    return value


class Throttle(Protocol):
    """At most ``limit`` events per key within ``window`` seconds, counted before the check they
    limit. Keys are short strings (at most 300 characters), e.g. ``10.0.0.7`` or ``studio\0…``."""

    limit: int
    window: float

    async def reserve(self, key: str) -> int | None:
        """Count one event of ``key`` now: None when it is within the limit, else the whole seconds
        until a place frees (nothing is counted then). Raises what the store raises (a database
        error for :class:`DatabaseWindow`)."""
        ...

    async def forgive(self, key: str) -> None:
        """Give back the latest event of ``key`` (the check it reserved succeeded, or never ran)."""
        ...

    async def retry_after(self, key: str) -> int | None:
        """Whole seconds until ``key`` may have an event again, or None when it may now."""
        ...


class SlidingWindow:
    """The memory store of :class:`Throttle` (:meth:`Clock.monotonic` seconds), for one process.
    Bounded memory: at most ``max_keys`` keys (the least recently used are dropped first). Every
    method completes without yielding to the event loop, so parallel requests cannot overrun it."""

    def __init__(self, clock: Clock, limit: int, window: float, max_keys: int = 10_000) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self._events: LRUCache[str, deque[float]] = LRUCache(max_keys)

    async def reserve(self, key: str) -> int | None:
        """See :meth:`Throttle.reserve`."""
        times = self._fresh(key)
        if len(times) >= self.limit:
            return self._retry_after(times)
        times.append(self.clock.monotonic())
        return None

    async def forgive(self, key: str) -> None:
        """See :meth:`Throttle.forgive`."""
        times = self._events.get(key)
        if times:
            times.pop()

    async def retry_after(self, key: str) -> int | None:
        """See :meth:`Throttle.retry_after`."""
        times = self._fresh(key)
        return self._retry_after(times) if len(times) >= self.limit else None

    def count(self, key: str) -> int:
        """Events of ``key`` in the window now."""
        return len(self._fresh(key))

    def _retry_after(self, times: deque[float]) -> int:
        return max(1, int(times[-self.limit] + self.window - self.clock.monotonic()) + 1)

    def _fresh(self, key: str) -> deque[float]:
        times = _touch(self._events, key, deque)
        cutoff = self.clock.monotonic() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        return times


class DatabaseWindow:
    """The database store of :class:`Throttle`: one row per event (``throttle_events``, named by
    ``scope``), dated by :meth:`Clock.now` and shared by every process on the database, so a limit
    holds across ``serve --workers N`` and replicas. Each reservation is one short transaction
    that locks the key (a PostgreSQL advisory lock; SQLite's one writer) before it counts, so parallel requests in
    any process cannot overrun the limit. A refusal writes nothing."""

    def __init__(self, db: Database, clock: Clock, scope: str, limit: int, window: float) -> None:
        self.db = db
        self.clock = clock
        self.scope = scope
        self.limit = limit
        self.window = window

    async def reserve(self, key: str) -> int | None:
        """See :meth:`Throttle.reserve`."""
        async with self.db.transaction(write=True) as session:
            await repository.lock(session, self.scope, key)
            now = self.clock.now()  # under the lock: a reservation that waited for it is dated after the one before
            times = await repository.times(session, self.scope, key, now - timedelta(seconds=self.window), now)
            if len(times) >= self.limit:
                return self._retry_after(times[-self.limit], now)
            await repository.add(session, self.scope, key, now)
        return None

    async def forgive(self, key: str) -> None:
        """See :meth:`Throttle.forgive`."""
        async with self.db.transaction(write=True) as session:
            await repository.lock(session, self.scope, key)
            await repository.remove_latest(session, self.scope, key)

    async def retry_after(self, key: str) -> int | None:
        """See :meth:`Throttle.retry_after`."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            times = await repository.times(session, self.scope, key, now - timedelta(seconds=self.window), now)
        return self._retry_after(times[-self.limit], now) if len(times) >= self.limit else None

    async def prune(self) -> int:
        """Forget the events that left the window (run by the maintenance loop); returns how many."""
        async with self.db.transaction(write=True) as session:
            return await repository.prune(session, self.scope, self.clock.now() - timedelta(seconds=self.window))

    def _retry_after(self, oldest: datetime, now: datetime) -> int:
        return max(1, int((oldest + timedelta(seconds=self.window) - now).total_seconds()) + 1)


@dataclass
class _Guesses:
    wrong: deque[tuple[float, bytes]] = field(default_factory=deque)  # (time, fingerprint), distinct
    # fingerprint → was right; the least recently seen of MAX_KNOWN is forgotten
    known: "LRUCache[bytes, bool]" = field(default_factory=lambda: LRUCache(PasswordGuard.MAX_KNOWN))


class PasswordGuard:
    """Throttles *guessing* of the ingest password per client IP, not the booths behind it.

    A password is identified by a fingerprint (HMAC-SHA256 under a key made at start, so no
    password is kept). An address is blocked once it sent ``limit`` *distinct* wrong passwords
    within ``window`` seconds; a booth repeating its one old password counts once. While blocked,
    a password the address sent before the block is still checked (a booth on the old password
    gets its 401, a booth on the right one its photo), and any other password is refused (429)
    without being checked — so a guesser gets at most ``limit`` new guesses per window, and the
    studio's other booths behind the same router keep working. Checks are counted the moment they
    happen (:meth:`check` is synchronous), so parallel guesses cannot overrun the limit.
    """

    MAX_KNOWN = 32  # passwords remembered per address

    def __init__(self, clock: Clock, limit: int, window: float, max_keys: int = 10_000) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self._key = secrets.token_bytes(32)
        self._by_ip: LRUCache[str, _Guesses] = LRUCache(max_keys)

    def check(self, ip: str, password: str, right: Callable[[str], bool]) -> bool | int:
        """``right(password)`` when ``ip`` may have it checked (True/False), else the whole
        seconds until it may (an int > 0: refuse with 429 and ``Retry-After``)."""
        fingerprint = hmac.new(self._key, password.encode(), hashlib.sha256).digest()[:16]
        guesses = self._guesses(ip)
        known = fingerprint in guesses.known
        if not known and len(guesses.wrong) >= self.limit:
            return max(1, int(guesses.wrong[0][0] + self.window - self.clock.monotonic()) + 1)
        valid = right(password)
        guesses.known[fingerprint] = valid
        if not valid and not known:
            guesses.wrong.append((self.clock.monotonic(), fingerprint))
        return valid

    def blocked(self, ip: str) -> bool:
        """Whether ``ip`` is refused new passwords now."""
        return len(self._guesses(ip).wrong) >= self.limit

    def _guesses(self, ip: str) -> _Guesses:
        guesses = _touch(self._by_ip, ip, _Guesses)
        cutoff = self.clock.monotonic() - self.window
        while guesses.wrong and guesses.wrong[0][0] <= cutoff:
            _, gone = guesses.wrong.popleft()
            if guesses.known.get(gone) is False:
                del guesses.known[gone]  # a wrong guess out of the window may be sent anew, and counts anew
        return guesses


class Evicted(Exception):
    """This upload's place was given to another one (it was the slowest)."""


class TooSlow(Exception):
    """This upload passed its total time or fell under the minimum rate before its password."""


class UploadPlace:
    """One upload's place in the :class:`UploadGate`: bytes received since it entered, when it
    entered (monotonic seconds), and whether it was evicted."""

    def __init__(self, gate: "UploadGate", entered: float) -> None:
        self.gate = gate
        self.entered = entered
        self.received = 0
        self.evicted = False
        self.held = True
        self.wake: Callable[[], None] | None = None  # set by the reader: interrupts its wait for a chunk

    def got(self, size: int) -> None:
        """Count ``size`` bytes received."""
        self.received += size

    def must_arrive_by(self) -> float:
        """The monotonic time by which more bytes must have arrived: the total time, or the time
        at which the average rate since entering falls under the minimum (after the grace)."""
        gate = self.gate
        by_rate = self.entered + max(gate.grace, (self.received + 1) / gate.min_rate)
        return min(self.entered + gate.max_seconds, by_rate)

    def check(self) -> None:
        """Raise :class:`Evicted` or :class:`TooSlow` when this upload must stop."""
        if self.evicted:
            raise Evicted
        if self.held and self.gate.clock.monotonic() >= self.must_arrive_by():
            raise TooSlow

    def leave(self) -> None:
        """Give the place back (idempotent): the password checked out, or the upload ended."""
        if self.held:
            self.held = False
            self.gate._holders.pop(self, None)

    def rate(self, now: float) -> float:
        """Average bytes per second since entering."""
        return self.received / max(now - self.entered, 1e-3)


class UploadGate:
    """At most ``limit`` uploads at once before their password is verified. Each may take at most
    ``max_seconds`` in all, and after ``grace`` seconds must average ``min_rate`` bytes per second
    (a booth sends its password in the first few hundred bytes, in milliseconds). When all places
    are taken a newcomer still gets one: the holder with the lowest average rate among those
    past the grace (else the oldest) is evicted — so clients trickling bytes cannot fill the gate,
    whatever their number. Times from ``clock``."""

    def __init__(self, clock: Clock, limit: int, grace: float, min_rate: float, max_seconds: float) -> None:
        self.clock = clock
        self.limit = limit
        self.grace = grace
        self.min_rate = min_rate
        self.max_seconds = max_seconds
        self._holders: OrderedDict[UploadPlace, None] = OrderedDict()  # oldest first
        self.evictions = 0

    def enter(self) -> UploadPlace:
        """A place for a new upload (evicting another one when all are taken)."""
        now = self.clock.monotonic()
        if len(self._holders) >= self.limit:
            self._evict(now)
        place = UploadPlace(self, now)
        self._holders[place] = None
        return place

    @property
    def holders(self) -> int:
        """Uploads holding a place now."""
        return len(self._holders)

    def _evict(self, now: float) -> None:
        past_grace = [p for p in self._holders if now - p.entered >= self.grace]
        victim = min(past_grace, key=lambda p: p.rate(now)) if past_grace else next(iter(self._holders))
        victim.evicted = True
        victim.leave()
        self.evictions += 1
        if victim.wake is not None:
            victim.wake()


@dataclass
class Refusal:
    """Refused booth requests of one address for one ``failure_reason``: how many, and the first
    and last time (wall clock, from :meth:`Clock.now`)."""

    client_ip: str
    failure_reason: str
    http_status: int
    count: int
    first_at: object
    last_at: object
    slot_id: str | None = None


class RefusalLog:
    """Booth requests refused before their password checked out (no job row is written for them),
    aggregated per (address, reason); the ``max_entries`` most recent are kept."""

    def __init__(self, clock: Clock, max_entries: int = 200) -> None:
        self.clock = clock
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], Refusal] = OrderedDict()

    def add(self, client_ip: str, failure_reason: str, http_status: int, slot_id: str | None) -> None:
        """Count one refusal."""
        now = self.clock.now()
        key = (client_ip, failure_reason)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = Refusal(client_ip, failure_reason, http_status, 0, now, now)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        entry.count += 1
        entry.last_at, entry.slot_id = now, slot_id
        self._entries.move_to_end(key)

    def recent(self, limit: int = 20) -> list[Refusal]:
        """The ``limit`` most recently refused (address, reason) pairs, newest first."""
        return list(reversed(self._entries.values()))[:limit]
