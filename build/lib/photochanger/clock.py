"""The clock every timing decision reads: the running event loop's time.

This is the one module that reads the operating system's clocks (``time.monotonic``,
``time.time``, ``datetime.now``); ruff's banned-API rule (``TID251``) refuses them elsewhere.

Deadlines, attempt budgets, retries, hedging, the circuit breaker and the admission queue all read
time through a :class:`Clock`, never ``time.monotonic()`` directly. Because the clock is the event
loop's own (``loop.time()``, the clock ``asyncio.sleep`` and ``asyncio.timeout`` use), a test can
run the whole algorithm on virtual time (``looptime``) and assert exact seconds.
"""

import asyncio
import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Monotonic seconds from the running event loop, and UTC wall time derived from them.

    ``now()`` is the wall time at the first reading plus the monotonic seconds since, so on a
    virtual loop it moves with virtual time too. Use it for times other processes must read (rows
    in the database); use :meth:`monotonic` for durations.
    """

    def __init__(self) -> None:
        self._wall0: datetime | None = None
        self._mono0 = 0.0

    def monotonic(self) -> float:
        """Seconds on the running loop's clock (or ``time.monotonic()`` outside a loop)."""
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:
            return time.monotonic()

    def now(self) -> datetime:
        """The current UTC time (timezone-aware)."""
        mono = self.monotonic()
        if self._wall0 is None:
            self._wall0, self._mono0 = datetime.now(UTC), mono
        return self._wall0 + timedelta(seconds=mono - self._mono0)


def wall_now() -> datetime:
    """The operating system's current UTC time (timezone-aware), for rows other processes read
    and file modification times; durations use :meth:`Clock.monotonic`."""
    return datetime.now(UTC)


def epoch_seconds() -> float:
    """The operating system's current time as seconds since 1970 (``time.time()``), the scale of
    file modification times (``os.stat().st_mtime``)."""
    return time.time()


#: The clock of the server process.
SYSTEM_CLOCK = Clock()
