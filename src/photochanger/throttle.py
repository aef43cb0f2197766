"""Limits on what clients without credentials may cost: :class:`FailureWindow` (wrong ingest
passwords per client IP) and :class:`ConcurrencyGate` (uploads not yet authenticated).

:class:`FailureWindow` is a sliding-window failure counter per key, on an injected clock. Used for
wrong ingest passwords: after ``limit`` failures within ``window`` seconds a key is
blocked until its oldest counted failure leaves the window; while blocked nothing is checked and
nothing is written (no job row per guess), so a guessing client costs neither CPU nor database
rows. In memory, per process: on several processes each holds its own window, so the effective
limit is at most ``limit`` × processes. Bounded memory: at most ``max_keys`` keys are tracked
(the least recently failed are dropped first).
"""

from collections import OrderedDict, deque

from photochanger.clock import Clock


class FailureWindow:
    """See module docstring. Times are :meth:`Clock.monotonic` seconds."""

    def __init__(self, clock: Clock, limit: int, window: float, max_keys: int = 10_000) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, key: str) -> int | None:
        """Whole seconds until ``key`` may try again, or None when it is not blocked."""
        times = self._fresh(key)
        if times is None or len(times) < self.limit:
            return None
        return max(1, int(times[0] + self.window - self.clock.monotonic()) + 1)

    def failed(self, key: str) -> bool:
        """Count a failure of ``key``; True when this failure starts a block."""
        times = self._fresh(key) or deque()
        times.append(self.clock.monotonic())
        self._failures[key] = times
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)
        return len(times) == self.limit

    def _fresh(self, key: str) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        cutoff = self.clock.monotonic() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        return times


class ConcurrencyGate:
    """At most ``limit`` holders at once; :meth:`enter` refuses (False) beyond that instead of
    waiting. Used for uploads still streaming before their password is verified, so clients
    without the password can hold at most ``limit`` connections and temp files (each capped at
    the upload limit)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.holders = 0

    def enter(self) -> bool:
        """Take a place; False when all ``limit`` are taken."""
        if self.holders >= self.limit:
            return False
        self.holders += 1
        return True

    def leave(self) -> None:
        """Give a place back (once per successful :meth:`enter`)."""
        self.holders -= 1
