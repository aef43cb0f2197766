"""Route health shared by every server process: circuit breakers in the database, API keys set
aside per process.

:class:`RouteHealth` applies :mod:`photochanger.routing.breaker` transitions to a
:class:`StateStore` — :class:`DatabaseStateStore` in the server (one row per route, so a restart or
a second process never sends another guest into a known outage), :class:`MemoryStateStore` for a
single process without a database (the router's unit tests). Every change of state is handed to
the listeners (log, metrics, alert webhook).
"""

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Protocol

import structlog
from sqlalchemy.exc import IntegrityError

from photochanger.clock import Clock
from photochanger.db import Database
from photochanger.providers.base import ProviderFailure
from photochanger.routing import repository
from photochanger.routing.breaker import (
    BreakerPolicy,
    BreakerState,
    after_failure,
    after_success,
    claim_probe,
    suspect,
)
from photochanger.routing.models import RouteStateRow

log = structlog.get_logger("photochanger.routing")


@dataclass(frozen=True)
class StateChange:
    """A route's circuit moved from ``previous.state`` to ``current.state``."""

    previous: BreakerState
    current: BreakerState


Listener = Callable[[StateChange], Awaitable[None]]


class StateStore(Protocol):
    """Where circuits live. ``change`` applies ``transition`` atomically and returns (old, new)."""

    async def load(self, route_keys: Sequence[str]) -> dict[str, BreakerState]: ...

    async def load_all(self) -> list[BreakerState]: ...

    async def change(
        self, route_key: str, transition: Callable[[BreakerState], BreakerState]
    ) -> tuple[BreakerState, BreakerState]: ...

    async def claim(self, route_key: str, now, policy: BreakerPolicy) -> bool: ...


class MemoryStateStore:
    """Circuits in this process only."""

    def __init__(self) -> None:
        self.states: dict[str, BreakerState] = {}
        self._lock = asyncio.Lock()

    async def load(self, route_keys: Sequence[str]) -> dict[str, BreakerState]:
        return {k: self.states[k] for k in route_keys if k in self.states}

    async def load_all(self) -> list[BreakerState]:
        return [self.states[k] for k in sorted(self.states)]

    async def change(self, route_key, transition):
        async with self._lock:
            old = self.states.get(route_key, BreakerState(route_key))
            self.states[route_key] = new = transition(old)
            return old, new

    async def claim(self, route_key, now, policy) -> bool:
        async with self._lock:
            old = self.states.get(route_key, BreakerState(route_key))
            if not old.probe_due(now, policy):
                return False
            self.states[route_key] = claim_probe(old, now)
            return True


def _state(row: RouteStateRow) -> BreakerState:
    return BreakerState(
        row.route_key,
        row.state,  # type: ignore[arg-type]
        row.failures,
        row.changed_at,
        row.probe_at,
        row.reason,
        row.slow_scope,
    )


class DatabaseStateStore:
    """Circuits as ``route_states`` rows; each change is one short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def load(self, route_keys: Sequence[str]) -> dict[str, BreakerState]:
        async with self.db.transaction() as session:
            return {row.route_key: _state(row) for row in await repository.get_states(session, route_keys)}

    async def load_all(self) -> list[BreakerState]:
        async with self.db.transaction() as session:
            return [_state(row) for row in await repository.all_states(session)]

    async def change(self, route_key, transition):
        try:
            return await self._change(route_key, transition)
        except IntegrityError:  # another process inserted the row first: apply on top of it
            return await self._change(route_key, transition)

    async def _change(self, route_key, transition):
        async with self.db.transaction(write=True) as session:
            row = await repository.get_state_for_update(session, route_key)
            old = _state(row) if row else BreakerState(route_key)
            new = transition(old)
            if new != old:
                await repository.save_state(
                    session,
                    RouteStateRow(
                        route_key=route_key,
                        state=new.state,
                        failures=new.failures,
                        changed_at=new.changed_at,
                        probe_at=new.probe_at,
                        reason=new.reason,
                        slow_scope=new.slow_scope,
                    ),
                )
            return old, new

    async def claim(self, route_key, now, policy) -> bool:
        async with self.db.transaction(write=True) as session:
            return await repository.claim_probe(
                session,
                route_key,
                now,
                now - timedelta(seconds=policy.probe_interval),
                now - timedelta(seconds=policy.probe_timeout),
            )


class RouteHealth:
    """Circuit breakers of every route (see :mod:`photochanger.routing.breaker`).

    ``record`` is called after every attempt and probe; a success on a route this process last saw
    closed with no failures writes nothing, so a healthy route costs no database writes.
    """

    def __init__(self, store: StateStore, policy: BreakerPolicy, clock: Clock) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock
        self.listeners: list[Listener] = []
        self._known: dict[str, BreakerState] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task] = set()

    async def snapshot(self, route_keys: Sequence[str]) -> dict[str, BreakerState]:
        """The circuits of ``route_keys`` (a closed state for routes never seen; the last known
        states if the store cannot be read)."""
        try:
            states = await self.store.load(route_keys)
        except Exception:
            log.exception("routing.snapshot_failed")
            states = {k: self._known[k] for k in route_keys if k in self._known}
        result = {key: states.get(key, BreakerState(key)) for key in route_keys}
        self._known.update(result)
        return result

    async def all(self) -> list[BreakerState]:
        """Every stored circuit."""
        return await self.store.load_all()

    async def record(
        self,
        route_key: str,
        failure: ProviderFailure | None,
        *,
        outage: bool = False,
        full_timeout: bool = False,
        scope: str | None = None,
    ) -> BreakerState:
        """Apply an attempt's outcome (``failure`` None = success); ``outage``, ``full_timeout`` and
        ``scope`` as in :func:`photochanger.routing.breaker.after_failure`. Returns the new state."""
        answered = failure is None or not outage  # a success, or an answer such as NO_IMAGE
        now = self.clock.now()
        if failure is None:
            transition = partial(after_success, now=now)
        else:
            reason = f"{failure.kind}: {failure.code}"[:200]
            transition = partial(
                after_failure,
                now=now,
                policy=self.policy,
                reason=reason,
                outage=outage,
                full_timeout=full_timeout,
                scope=scope,
            )
        lock = self._locks.setdefault(route_key, asyncio.Lock())
        async with lock:  # one change of a route at a time from this process
            known = self._known.get(route_key)
            unchanged = known is not None and known.state == "closed" and not known.failures and not known.slow_scope
            if unchanged and answered and known is not None:
                return known  # nothing changes: no database round trip
            if known is not None and known.state == "open" and not answered:
                return known  # already open (e.g. the rest of a wave that timed out together)
            try:
                old, new = await self.store.change(route_key, transition)
            except Exception:  # bookkeeping must never cost a guest the photo
                log.exception("routing.record_failed", route=route_key)
                return known or BreakerState(route_key)
            self._known[route_key] = new
        if new.state != old.state:
            await self._notify(StateChange(old, new))
        return new

    async def claim_probe(self, route_key: str) -> bool:
        """Claim the one probe of an open route that is due (across every process)."""
        now = self.clock.now()
        state = self._known.get(route_key)
        if state is not None and not state.probe_due(now, self.policy):
            return False
        try:
            claimed = await self.store.claim(route_key, now, self.policy)
        except Exception:
            log.exception("routing.claim_failed", route=route_key)
            return False
        if claimed:
            previous = state or BreakerState(route_key, "open")
            self._known[route_key] = claim_probe(previous, now)
            await self._notify(StateChange(previous, self._known[route_key]))
        return claimed

    async def suspect(self, route_key: str) -> bool:
        """Make a closed circuit half-open now, its probe claimed by this caller (across every
        process); True when this call did (the caller then runs the probe)."""
        try:
            old, new = await self.store.change(route_key, partial(suspect, now=self.clock.now()))
        except Exception:
            log.exception("routing.suspect_failed", route=route_key)
            return False
        self._known[route_key] = new
        if new.state != old.state:
            await self._notify(StateChange(old, new))
        return old.state == "closed" and new.state == "half_open"

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        """Run ``coro`` in the background (a probe), keeping a reference until it ends."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self) -> None:
        """Wait for background probes (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _notify(self, change: StateChange) -> None:
        for listener in self.listeners:
            try:
                await listener(change)
            except Exception:
                log.exception("routing.listener_failed", route=change.current.route_key)


class KeyRing:
    """Round-robin over a provider's keys; a refused key is set aside for ``aside`` seconds while
    the others carry on (if every key is aside, the one set aside longest ago is tried). Per
    process: a key refused here is refused within one attempt elsewhere too."""

    def __init__(self, clock: Clock, aside: float = 600.0) -> None:
        self.clock = clock
        self.aside = aside
        self._counter = itertools.count()
        self._aside_until: dict[str, float] = {}

    def pick(self, keys: list[str]) -> str | None:
        """The next key to use, or None if there are no keys."""
        if not keys:
            return None
        now = self.clock.monotonic()
        usable = [k for k in keys if self._aside_until.get(k, 0.0) <= now]
        if not usable:
            return min(keys, key=lambda k: self._aside_until[k])
        return usable[next(self._counter) % len(usable)]

    def set_aside(self, key: str | None) -> None:
        """Stop using ``key`` for a while."""
        if key:
            self._aside_until[key] = self.clock.monotonic() + self.aside

    def usable(self, keys: list[str]) -> int:
        """How many of ``keys`` are not set aside."""
        now = self.clock.monotonic()
        return sum(1 for k in keys if self._aside_until.get(k, 0.0) <= now)
