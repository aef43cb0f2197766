"""The sliding window of wrong ingest passwords per client IP, on an injected clock."""

from photochanger.clock import Clock
from photochanger.throttle import FailureWindow


class StepClock(Clock):
    """A clock moved by hand (seconds)."""

    def __init__(self) -> None:
        super().__init__()
        self.at = 1000.0

    def monotonic(self) -> float:
        return self.at


def test_blocks_after_the_limit_until_the_oldest_failure_leaves_the_window():
    clock = StepClock()
    window = FailureWindow(clock, limit=3, window=300)
    assert window.retry_after("10.0.0.1") is None
    starts = []
    for _ in range(3):
        starts.append(window.failed("10.0.0.1"))
        clock.at += 10
    assert starts == [False, False, True]  # the third failure starts the block (logged once)
    assert window.retry_after("10.0.0.1") == 271  # first failure at 1000 leaves at 1300; now 1030
    assert window.retry_after("10.0.0.2") is None  # another client is not affected
    clock.at = 1300.5
    assert window.retry_after("10.0.0.1") is None  # two failures left in the window


def test_memory_is_bounded_by_dropping_the_least_recent_clients():
    window = FailureWindow(StepClock(), limit=1, window=300, max_keys=2)
    for ip in ("a", "b", "c"):
        window.failed(ip)
    assert window.retry_after("a") is None and window.retry_after("c") is not None
