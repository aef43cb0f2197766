"""In-flight limits per slot and per provider (this process)."""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager


class LimitReached(Exception):
    """A limit is full; ``scope`` is ``slot`` or ``provider``."""

    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.scope = scope


class InFlightLimiter:
    """Counts requests being processed. Acquisition is synchronous (no await between the check and
    the increment), so it is exact within one event loop."""

    def __init__(self) -> None:
        self._in_flight: Counter[str] = Counter()

    @contextmanager
    def hold(self, slot_id: str, slot_limit: int, provider: str, provider_limit: int) -> Iterator[None]:
        """Hold one place for ``slot_id`` and ``provider``; raises :class:`LimitReached` if either is full."""
        slot_key, provider_key = f"slot:{slot_id}", f"provider:{provider}"
        if self._in_flight[slot_key] >= slot_limit:
            raise LimitReached("slot")
        if self._in_flight[provider_key] >= provider_limit:
            raise LimitReached("provider")
        self._in_flight[slot_key] += 1
        self._in_flight[provider_key] += 1
        try:
            yield
        finally:
            self._in_flight[slot_key] -= 1
            self._in_flight[provider_key] -= 1

    def count(self, key: str) -> int:
        """Current count for ``slot:<id>`` or ``provider:<name>``."""
        return self._in_flight[key]
