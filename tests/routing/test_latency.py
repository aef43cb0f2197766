"""Attempt timeouts, typical latency and hedging delays from a route's recent successes."""

import pytest

from photochanger.clock import Clock
from photochanger.routing.latency import LatencyBook, LatencyStats, percentile, timing


def test_nearest_rank_percentiles():
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 50) == 10 and percentile(values, 95) == 19 and percentile([3.0], 95) == 3


def test_timing_follows_recent_latency_with_a_floor():
    fast = LatencyStats(samples=20, p50=1.0, p95=2.0, mean_cost_usd=None)
    when = timing(fast, documented=6.0, floor=10.0, override=None)
    assert (when.typical, when.attempt_timeout, when.hedge_after) == (1.0, 10.0, 2.0)
    slow = LatencyStats(samples=20, p50=9.0, p95=16.0, mean_cost_usd=0.04)
    assert timing(slow, 6.0, 10.0, None).attempt_timeout == pytest.approx(24.0)  # 1.5 × p95


def test_without_enough_history_the_documented_latency_is_used():
    few = LatencyStats(samples=3, p50=0.5, p95=0.6, mean_cost_usd=None)
    for stats in (None, few):
        when = timing(stats, documented=6.0, floor=10.0, override=None)
        assert (when.typical, when.attempt_timeout, when.hedge_after) == (6.0, 12.0, 6.0)


def test_the_slot_override_wins():
    stats = LatencyStats(samples=20, p50=1.0, p95=2.0, mean_cost_usd=None)
    when = timing(stats, 6.0, 10.0, override=5.0)
    assert when.attempt_timeout == 5.0 and when.hedge_after == 2.0


@pytest.mark.looptime
@pytest.mark.asyncio(loop_scope="function")
async def test_observed_successes_count_at_once():
    book = LatencyBook(None, Clock())
    assert (await book.stats(["gemini:m"]))["gemini:m"] is None
    for seconds in (1.0, 2.0, 3.0, 4.0, 5.0):
        book.observe("gemini:m", seconds, 0.04)
    stats = (await book.stats(["gemini:m"]))["gemini:m"]
    assert (stats.samples, stats.p50, stats.p95, stats.mean_cost_usd) == (5, 3.0, 5.0, pytest.approx(0.04))
