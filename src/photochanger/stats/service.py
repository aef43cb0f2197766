"""Statistics: a fixed number of SQL aggregates per call, whatever the number of slots."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Literal

from photochanger.db import Database, utcnow
from photochanger.jobs.models import Job
from photochanger.stats import repository
from photochanger.stats.schemas import (
    BUCKET_SECONDS,
    DEFAULT_BUCKET,
    WINDOW_SECONDS,
    Bucket,
    ChartPoint,
    Overview,
    SlotStats,
    Timeseries,
    Window,
)

TOTAL = "*"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def overview(db: Database, window: Window | Literal["all"], event_id: str | None = None) -> Overview:
    """Totals and per-slot figures for jobs received in the last ``window`` (``all``: ever), of
    ``event_id`` only when given."""
    since = EPOCH if window == "all" else utcnow() - timedelta(seconds=WINDOW_SECONDS[window])
    async with db.transaction() as session:
        counts = await repository.counts_by_slot(session, since, event_id)
        failures = await repository.failures_by_reason(session, since, event_id)
        hedges, hedge_costs = await repository.hedges(session, since, event_id)
        lost_people = await repository.people_lost(session, since, event_id)
        latencies = []
        for column, name in ((Job.total_ms, "total"), (Job.provider_ms, "provider")):
            for group in (Job.slot_id, None):
                rows = await repository.percentiles(session, since, column, group, event_id=event_id)
                latencies += [(TOTAL if group is None else grp, name, p, v) for grp, p, v in rows]
    stats: dict[str, SlotStats] = defaultdict(SlotStats)
    booth: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in counts:
        slot_id, jobs, done, timeouts, retried, retries, stored, fallbacks, cost, photos, ok, rejected, late, making = (
            row
        )
        for key in (slot_id, TOTAL):
            s = stats[key]
            s.late_deliveries += int(late or 0)
            s.late_continuing += int(making or 0)
            booth[key][0] += int(photos or 0)
            booth[key][1] += int(ok or 0)
            s.rejected += int(rejected or 0)
            s.jobs += jobs
            s.done += int(done or 0)
            s.timeouts += int(timeouts or 0)
            s.retried_jobs += int(retried or 0)
            s.retries += int(retries or 0)
            s.storage_bytes += int(stored or 0)
            s.fallbacks += int(fallbacks or 0)
            s.estimated_cost_usd = round(s.estimated_cost_usd + float(cost or 0), 6)
    for slot_id, route_key, count in hedges:
        extra = count * hedge_costs.get(route_key or "", 0.0)
        for key in (slot_id, TOTAL):
            stats[key].hedges_lost += count
            stats[key].estimated_hedge_cost_usd = round(stats[key].estimated_hedge_cost_usd + extra, 6)
            stats[key].estimated_cost_usd = round(stats[key].estimated_cost_usd + extra, 6)
    for slot_id, count in lost_people:
        for key in (slot_id, TOTAL):
            stats[key].people_lost += count
    for slot_id, reason, count in failures:
        for key in (slot_id, TOTAL):
            stats[key].failed += count
            stats[key].failed_by_reason[reason or "unknown"] = (
                stats[key].failed_by_reason.get(reason or "unknown", 0) + count
            )
    for key, name, percent, value in latencies:
        setattr(stats[key], f"p{percent}_{name}_ms", int(value))
    for key, s in stats.items():
        photos, ok = booth[key]
        s.success_rate = round(ok / photos, 4) if photos else None
    totals = stats.pop(TOTAL, SlotStats())
    return Overview(window=window, since=since, event_id=event_id, totals=totals, slots=dict(sorted(stats.items())))


async def timeseries(db: Database, window: Window, bucket: Bucket | None, event_id: str | None = None) -> Timeseries:
    """Jobs by status and p95 latency per ``bucket`` over ``window`` (empty buckets included), of
    ``event_id`` only when given."""
    chosen: Bucket = bucket or DEFAULT_BUCKET[window]
    size, span = BUCKET_SECONDS[chosen], WINDOW_SECONDS[window]
    now = utcnow()
    since = now - timedelta(seconds=span)
    since = since.replace(microsecond=0) - timedelta(seconds=int(since.timestamp()) % size)
    async with db.transaction() as session:
        counts, p95 = await repository.timeseries(session, since, size, event_id)
    n_buckets = int((now - since).total_seconds() // size) + 1
    points = [
        ChartPoint(start=since + timedelta(seconds=i * size), counts={}, p95_total_ms=None) for i in range(n_buckets)
    ]
    for index, status, count in counts:
        if 0 <= int(index) < n_buckets:
            points[int(index)].counts[status] = count
    for index, _percent, value in p95:
        if 0 <= int(index) < n_buckets:
            points[int(index)].p95_total_ms = int(value)
    return Timeseries(window=window, bucket=chosen, buckets=points)


async def booth_photos_by_event(db: Database, event_ids: list[str]) -> dict[str, int]:
    """``{event id: booth photos}`` (events with none are missing)."""
    async with db.transaction() as session:
        return await repository.booth_photos_by_event(session, event_ids)
