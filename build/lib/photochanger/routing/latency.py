"""What each route's recent successful attempts say about its latency (and cost).

The history is the ``job_attempts`` table (successful rows of a route key), so it survives
restarts and is shared by every process; each process caches it for ``ttl`` seconds and adds its
own new successes at once. From it come the attempt timeout, the typical latency and the hedging
delay of a route (:func:`timing`).
"""

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from photochanger.clock import Clock
from photochanger.db import Database
from photochanger.routing import repository

HISTORY = 20  # successes per route considered
MIN_SAMPLES = 5  # fewer than this: fall back to the documented typical latency
TIMEOUT_FACTOR = 1.5  # attempt timeout = 1.5 × p95 of recent successes
NO_HISTORY_FACTOR = 2.0  # attempt timeout without history = 2 × documented typical


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank ``q``-th percentile (0–100) of a non-empty ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered) / 100) - 1)]


@dataclass(frozen=True)
class LatencyStats:
    """Recent successes of one route: ``samples`` count, ``p50``/``p95`` in seconds, mean
    estimated cost in US dollars (None when no attempt reported one)."""

    samples: int
    p50: float
    p95: float
    mean_cost_usd: float | None


@dataclass(frozen=True)
class RouteTiming:
    """Timing of one route: ``typical`` (p50, seconds) for fit checks, ``attempt_timeout``
    (seconds) when a later route could answer instead, ``hedge_after`` (seconds) after which the
    next route may start beside this one."""

    typical: float
    attempt_timeout: float
    hedge_after: float
    p95: float | None = None  # of recent successes (the documented typical without history)


def timing(stats: LatencyStats | None, documented: float, floor: float, override: float | None) -> RouteTiming:
    """The timing of a route from its history ``stats`` (None or too few samples: from the
    ``documented`` typical latency). ``floor``: the lowest attempt timeout (seconds);
    ``override``: the slot's ``attempt_timeout_seconds`` if set (used as is)."""
    if stats is not None and stats.samples >= MIN_SAMPLES:
        typical, timeout, hedge = stats.p50, max(floor, TIMEOUT_FACTOR * stats.p95), stats.p95
    else:
        typical, timeout, hedge = documented, max(floor, NO_HISTORY_FACTOR * documented), documented
    if override:
        timeout = override
    return RouteTiming(typical, timeout, min(hedge, timeout), hedge)


class LatencyBook:
    """Per-route latency history from the database, cached ``ttl`` seconds per process."""

    def __init__(self, db: Database | None, clock: Clock, ttl: float = 10.0) -> None:
        self.db = db
        self.clock = clock
        self.ttl = ttl
        self._samples: dict[str, deque[tuple[float, float | None]]] = {}
        self._loaded_at: dict[str, float] = {}

    async def stats(self, route_keys: Sequence[str]) -> dict[str, LatencyStats | None]:
        """Stats of each of ``route_keys`` (None when the route has no successes yet)."""
        now = self.clock.monotonic()
        stale = [k for k in route_keys if now - self._loaded_at.get(k, -math.inf) >= self.ttl]
        if stale and self.db is not None:
            async with self.db.transaction() as session:
                for key in stale:
                    rows = await repository.recent_successes(session, key, HISTORY)
                    self._samples[key] = deque(((ms / 1000, cost) for ms, cost in rows), maxlen=HISTORY)
                    self._loaded_at[key] = now
        return {key: self._stats(key) for key in route_keys}

    def observe(self, route_key: str, seconds: float, cost_usd: float | None) -> None:
        """Add a success of this process at once (the database has it once the job is written)."""
        self._samples.setdefault(route_key, deque(maxlen=HISTORY)).appendleft((seconds, cost_usd))

    def _stats(self, key: str) -> LatencyStats | None:
        samples = self._samples.get(key)
        if not samples:
            return None
        latencies = [s for s, _ in samples]
        costs = [c for _, c in samples if c is not None]
        return LatencyStats(
            len(latencies),
            percentile(latencies, 50),
            percentile(latencies, 95),
            sum(costs) / len(costs) if costs else None,
        )
