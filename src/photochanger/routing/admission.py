"""Admission to the in-flight limits (per slot and per provider): wait in line instead of refusing.

A request that finds a limit full waits its turn, first come first served within this process,
as long as its expected wait plus the route's typical latency still fits its deadline; only when
that cannot fit is it refused (:class:`LimitReached`, answered 429 with ``Retry-After``). Late
work (an AI photo made after its booth's deadline, :data:`LATE`) waits behind every booth: it
takes a place only when no booth of the same scopes is waiting. Places
are counted by a :class:`PermitStore`: :class:`DatabasePermitStore` keeps them as rows with a
lease (``inflight_permits``), so the limits hold across every server process and the places of a
process that died expire by themselves.
"""

import asyncio
import itertools
import math
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import structlog
from sqlalchemy.exc import SQLAlchemyError

from photochanger.clock import Clock
from photochanger.db import Database
from photochanger.deadline import Deadline
from photochanger.metrics import INGEST_QUEUE_SECONDS
from photochanger.routing import repository
from photochanger.routing.models import InFlightPermit

log = structlog.get_logger("photochanger.admission")

POLL_SECONDS = 0.25  # how often a waiter at the head re-checks places freed by other processes
LEASE_MARGIN_SECONDS = 10.0  # a permit outlives its request's deadline by this much at most
BOOTH, LATE = 0, 1  # priorities: a booth waiting now goes before late work, whenever it arrived


class LimitReached(Exception):
    """The wait for a place would not fit the deadline. ``scope`` is ``slot`` or ``provider``;
    ``retry_after`` whole seconds a client should wait."""

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(scope)
        self.scope = scope
        self.retry_after = retry_after


class PermitStore(Protocol):
    """Counts places. ``try_acquire`` takes one place in every scope or none, returning the permit
    ids, or the first full scope."""

    async def try_acquire(
        self, limits: Mapping[str, int], job_id: str, now: datetime, expires_at: datetime
    ) -> list[str] | str: ...

    async def release(self, permit_ids: list[str]) -> None: ...


class MemoryPermitStore:
    """Places counted in this process only."""

    def __init__(self) -> None:
        self.held: dict[str, str] = {}  # permit id → scope

    async def try_acquire(self, limits, job_id, now, expires_at):
        for scope, limit in limits.items():
            if sum(1 for s in self.held.values() if s == scope) >= limit:
                return scope
        ids = []
        for scope in limits:
            ids.append(uuid.uuid4().hex)
            self.held[ids[-1]] = scope
        return ids

    async def release(self, permit_ids):
        for permit in permit_ids:
            self.held.pop(permit, None)


class DatabasePermitStore:
    """Places as ``inflight_permits`` rows; taking them is one short transaction that holds
    PostgreSQL advisory locks of the scopes (SQLite has a single writer)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._local = asyncio.Lock()  # one acquisition at a time from this process
        self._unreleased: set[str] = set()  # released while the database could not be written

    async def try_acquire(self, limits, job_id, now, expires_at):
        leftover = list(self._unreleased)  # given back during an outage: deleted before anything is counted
        taken = await self._try_acquire(limits, job_id, now, expires_at, leftover)
        self._unreleased.difference_update(leftover)  # committed with the acquisition
        return taken

    async def _try_acquire(self, limits, job_id, now, expires_at, leftover: list[str]):
        async with self._local, self.db.transaction() as session:
            if leftover:
                await repository.remove_permits(session, leftover)
            await repository.lock_scopes(session, list(limits))
            counts = await repository.count_permits(session, list(limits), now)
            for scope, limit in limits.items():
                if counts[scope] >= limit:
                    return scope
            permits = [
                InFlightPermit(id=uuid.uuid4().hex, scope=scope, job_id=job_id, expires_at=expires_at)
                for scope in limits
            ]
            await repository.add_permits(session, permits)
            return [p.id for p in permits]

    async def release(self, permit_ids):
        """Delete the permits' rows; while the database cannot be written (stopped, restarting,
        locked) they are kept in memory and deleted by this process's next acquisition, so a
        database restart does not leave a slot's places taken until the permits expire."""
        try:
            async with self.db.transaction() as session:
                await repository.remove_permits(session, permit_ids)
        except SQLAlchemyError as exc:
            self._unreleased.update(permit_ids)
            log.warning("admission.release_deferred", permits=len(permit_ids), error=type(exc).__name__)


@dataclass(eq=False)
class _Waiter:
    seq: int
    scopes: frozenset[str]
    priority: int = BOOTH
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def before(self, other: "_Waiter") -> bool:
        """Whether this waiter goes before ``other`` (both in line for a shared scope)."""
        return (self.priority, self.seq) < (other.priority, other.seq)


@dataclass(frozen=True)
class Admitted:
    """A place in every limit; ``queue_seconds`` is how long the request waited for it."""

    queue_seconds: float


class Place:
    """A place in every limit, held until :meth:`release` (idempotent); ``queue_seconds`` the wait."""

    def __init__(self, admission: "Admission", permits: list[str], queue_seconds: float) -> None:
        self._admission = admission
        self._permits: list[str] | None = permits
        self.queue_seconds = queue_seconds

    @property
    def held(self) -> bool:
        """Not yet released."""
        return self._permits is not None

    async def release(self) -> None:
        """Give the place back (shielded: a cancelled caller still frees it) and wake the line."""
        permits, self._permits = self._permits, None
        if permits is None:
            return
        await asyncio.shield(self._admission.store.release(permits))
        self._admission._wake_all()


class Admission:
    """FIFO admission over a :class:`PermitStore` (see module docstring)."""

    def __init__(self, store: PermitStore, clock: Clock, poll: float = POLL_SECONDS) -> None:
        self.store = store
        self.clock = clock
        self.poll = poll
        self._seq = itertools.count()
        self._waiters: list[_Waiter] = []
        self._full: set[str] = set()  # scopes last found full (cleared by the next acquisition)

    def waiting(self, scope: str) -> int:
        """Requests of this process waiting for ``scope``."""
        return sum(1 for w in self._waiters if scope in w.scopes)

    def _may_try(self, waiter: _Waiter) -> bool:
        """True if no waiter that goes first needs one of the same scopes (first come, first
        served; booths before late work)."""
        return not any(
            other is not waiter and other.scopes & waiter.scopes and other.before(waiter) for other in self._waiters
        )

    def _wake_all(self) -> None:
        for waiter in self._waiters:
            waiter.wake.set()

    @asynccontextmanager
    async def hold(
        self, limits: Mapping[str, int], job_id: str, deadline: Deadline, typical: float, margin: float = 1.0
    ) -> AsyncIterator[Admitted]:
        """Hold one place in each of ``limits`` for the body of the ``async with`` (see
        :meth:`acquire`)."""
        place = await self.acquire(limits, job_id, deadline, typical, margin)
        try:
            yield Admitted(place.queue_seconds)
        finally:
            await place.release()

    async def acquire(
        self,
        limits: Mapping[str, int],
        job_id: str,
        deadline: Deadline,
        typical: float,
        margin: float = 1.0,
        priority: int = BOOTH,
    ) -> Place:
        """One place in each of ``limits`` (scope → limit, scopes ``slot:<id>`` and
        ``provider:<name>``), held until released. Waits in line (``priority`` :data:`LATE`:
        behind every booth) while ``expected wait + typical + margin`` seconds fit the
        ``deadline``; raises :class:`LimitReached` otherwise."""
        start = self.clock.monotonic()
        expires = self.clock.now() + timedelta(seconds=max(deadline.remaining(), 0) + LEASE_MARGIN_SECONDS)
        waiter = _Waiter(next(self._seq), frozenset(limits), priority)
        self._waiters.append(waiter)
        permits: list[str] | None = None
        try:
            while permits is None:
                full: str | None = None
                if self._may_try(waiter):
                    got = await self.store.try_acquire(limits, job_id, self.clock.now(), expires)
                    if isinstance(got, list):
                        permits = got
                        self._full.difference_update(limits)
                        break
                    full = got
                    self._full.add(full)
                else:  # not our turn yet: only a scope known to be full can make the wait too long
                    full = next((scope for scope in sorted(waiter.scopes) if scope in self._full), None)
                if full is not None:
                    ahead = self._ahead(waiter, full)
                    expected = math.ceil(ahead / max(1, limits[full])) * typical
                    if expected + typical + margin > deadline.remaining():
                        raise LimitReached(full.split(":", 1)[0], max(1, math.ceil(expected or typical)))
                elif typical + margin > deadline.remaining():
                    raise LimitReached(sorted(waiter.scopes)[0].split(":", 1)[0], max(1, math.ceil(typical)))
                waiter.wake.clear()
                try:
                    await asyncio.wait_for(waiter.wake.wait(), timeout=self.poll)
                except TimeoutError:
                    pass
        finally:
            self._waiters.remove(waiter)
            if permits is None:
                self._wake_all()
        queued = self.clock.monotonic() - start
        INGEST_QUEUE_SECONDS.observe(queued)
        self._wake_all()  # the next in line may now try its other scopes
        return Place(self, permits or [], queued)

    def _ahead(self, waiter: _Waiter, scope: str) -> int:
        """Waiters of ``scope`` that go before ``waiter``, and ``waiter`` itself."""
        return 1 + sum(1 for other in self._waiters if scope in other.scopes and other.before(waiter))
