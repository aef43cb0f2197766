"""A request deadline on the monotonic clock."""

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    """A point in ``time.monotonic()`` seconds by which the booth must have its answer."""

    at: float

    @classmethod
    def after(cls, seconds: float, start: float | None = None) -> "Deadline":
        """The deadline ``seconds`` after ``start`` (default: now)."""
        return cls((time.monotonic() if start is None else start) + seconds)

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.at - time.monotonic()
