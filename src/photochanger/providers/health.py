"""Per-process route health: cooldown after repeated outages, and API keys set aside.

A circuit breaker lives in each process on purpose: it reacts to what this process sees within
seconds, and losing it on restart costs at most one more failed attempt per route.
"""

import itertools
import time
from collections import defaultdict

from photochanger.providers.base import FailureKind, ProviderFailure

OUTAGE_KINDS = {FailureKind.TIMEOUT, FailureKind.UNAVAILABLE}
KEY_FAILURE_CODES = {"http_401", "http_403", "quota_exhausted", "api_key_invalid"}


def is_outage(failure: ProviderFailure) -> bool:
    """5xx, transport errors, timeouts and unavailability count towards a cooldown; answers such as
    NO_IMAGE or a content block do not (the provider is up)."""
    return failure.kind in OUTAGE_KINDS or failure.code.startswith("http_5") or failure.code == "connection_error"


def is_key_failure(failure: ProviderFailure) -> bool:
    """The key itself was refused (bad key, no permission, quota): try another key."""
    return failure.kind is FailureKind.UNAVAILABLE and any(failure.code.startswith(c) for c in KEY_FAILURE_CODES)


class RouteHealth:
    """``threshold`` outages in a row put a route (``provider:model``) in cooldown for ``cooldown`` s."""

    def __init__(self, threshold: int = 3, cooldown: float = 30.0) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._streak: dict[str, int] = defaultdict(int)
        self._failed_at: dict[str, float] = {}
        self._until: dict[str, float] = {}

    def cooling(self, route: str) -> bool:
        """True while ``route`` should be skipped."""
        return self._until.get(route, 0.0) > time.monotonic()

    def failed_at(self, route: str) -> float:
        """Monotonic time of the route's last failure (0 if none)."""
        return self._failed_at.get(route, 0.0)

    def record(self, route: str, failure: ProviderFailure | None) -> None:
        """Note an attempt's outcome (``None`` = success)."""
        if failure is None:
            self._streak[route] = 0
            self._until.pop(route, None)
            return
        if not is_outage(failure):
            return
        self._failed_at[route] = time.monotonic()
        self._streak[route] += 1
        if self._streak[route] >= self.threshold:
            self._until[route] = time.monotonic() + self.cooldown


class KeyRing:
    """Round-robin over a provider's keys; a refused key is set aside for ``aside`` seconds while
    the others carry on (if every key is aside, the one set aside longest ago is tried)."""

    def __init__(self, aside: float = 600.0) -> None:
        self.aside = aside
        self._counter = itertools.count()
        self._aside_until: dict[str, float] = {}

    def pick(self, keys: list[str]) -> str | None:
        """The next key to use, or None if there are no keys."""
        if not keys:
            return None
        now = time.monotonic()
        usable = [k for k in keys if self._aside_until.get(k, 0.0) <= now]
        if not usable:
            return min(keys, key=lambda k: self._aside_until[k])
        return usable[next(self._counter) % len(usable)]

    def set_aside(self, key: str | None) -> None:
        """Stop using ``key`` for a while."""
        if key:
            self._aside_until[key] = time.monotonic() + self.aside

    def usable(self, keys: list[str]) -> int:
        """How many of ``keys`` are not set aside."""
        now = time.monotonic()
        return sum(1 for k in keys if self._aside_until.get(k, 0.0) <= now)
