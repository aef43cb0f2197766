"""A request deadline on the monotonic clock (:mod:`photochanger.clock`)."""

from dataclasses import dataclass, field

from photochanger.clock import SYSTEM_CLOCK, Clock


@dataclass(frozen=True)
class Deadline:
    """A point in :meth:`Clock.monotonic` seconds by which the booth must have its answer."""

    at: float
    clock: Clock = field(default=SYSTEM_CLOCK, compare=False, repr=False)

    @classmethod
    def after(cls, seconds: float, start: float | None = None, clock: Clock = SYSTEM_CLOCK) -> "Deadline":
        """The deadline ``seconds`` after ``start`` (default: now on ``clock``)."""
        return cls((clock.monotonic() if start is None else start) + seconds, clock)

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.at - self.clock.monotonic()

    def earlier(self, seconds: float) -> "Deadline":
        """The deadline ``seconds`` before this one (e.g. to keep time to store and send an answer)."""
        return Deadline(self.at - seconds, self.clock)
