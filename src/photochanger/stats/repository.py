"""SQL aggregates over ``jobs`` (indexed on ``received_at``). Percentiles use the nearest-rank
method with ``row_number()``/``count()`` window functions, which SQLite and PostgreSQL share."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Integer, and_, case, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement

from photochanger.db import dialect_name
from photochanger.jobs.models import Job, JobAttempt

FAILED = ("failed", "timeout", "interrupted")


def _scope(since: datetime, event_id: str | None) -> list[ColumnElement[bool]]:
    """The jobs counted: received from ``since``, and of ``event_id`` when given."""
    conditions = [Job.received_at >= since]
    if event_id is not None:
        conditions.append(Job.event_id == event_id)
    return conditions


async def counts_by_slot(session: AsyncSession, since: datetime, event_id: str | None = None) -> list[tuple]:
    """Per slot: ``(slot_id, jobs, done, timeouts, retried_jobs, retries, stored_bytes, fallbacks, cost,
    booth_photos, booth_done, rejected, late_delivered, late_continuing)``. ``booth_photos``: booth
    uploads that reached a provider (wrong passwords, bad files and test runs are not guests'
    photos); ``rejected``: requests that failed before any provider was chosen; ``done`` and
    ``booth_done`` are on time (an AI photo delivered after the booth's deadline counts in
    ``late_delivered`` only); ``late_continuing``: AI photos still being made."""
    booth = and_(Job.source == "ingest", Job.provider.is_not(None))
    on_time = and_(Job.status == "done", or_(Job.late_state.is_(None), Job.late_state != "delivered"))
    stored = case(
        (Job.media_purged_at.is_(None), func.coalesce(Job.input_bytes, 0) + func.coalesce(Job.result_bytes, 0)), else_=0
    )
    query = (
        select(
            Job.slot_id,
            func.count(),
            func.sum(case((on_time, 1), else_=0)),
            func.sum(case((Job.status == "timeout", 1), else_=0)),
            func.sum(case((Job.attempts > 1, 1), else_=0)),
            func.sum(case((Job.attempts > 1, Job.attempts - 1), else_=0)),
            func.sum(stored),
            func.sum(case((Job.fallback.is_not(None), 1), else_=0)),
            func.sum(func.coalesce(Job.cost_usd, 0.0)),
            func.sum(case((booth, 1), else_=0)),
            func.sum(case((and_(booth, on_time), 1), else_=0)),
            func.sum(case((and_(Job.provider.is_(None), Job.status.in_(FAILED)), 1), else_=0)),
            func.sum(case((Job.late_state == "delivered", 1), else_=0)),
            func.sum(case((Job.late_state == "continuing", 1), else_=0)),
        )
        .where(*_scope(since, event_id))
        .group_by(Job.slot_id)
    )
    return [tuple(row) for row in await session.execute(query)]


async def failures_by_reason(
    session: AsyncSession, since: datetime, event_id: str | None = None
) -> list[tuple[str, str | None, int]]:
    """``(slot_id, failure_reason, count)`` of unsuccessful jobs."""
    query = (
        select(Job.slot_id, Job.failure_reason, func.count())
        .where(*_scope(since, event_id), Job.status.in_(FAILED))
        .group_by(Job.slot_id, Job.failure_reason)
    )
    return [(slot_id, reason, count) for slot_id, reason, count in await session.execute(query)]


def _nearest_rank(rank: ColumnElement, total: ColumnElement, percent: int) -> ColumnElement:
    """True on the row that is the ``percent``-th percentile: the smallest rank with rank/n ≥ p."""
    return and_(rank * 100 >= total * percent, (rank - 1) * 100 < total * percent)


async def percentiles(
    session: AsyncSession,
    since: datetime,
    column: ColumnElement | InstrumentedAttribute,
    group: ColumnElement | InstrumentedAttribute | None,
    percents: tuple[int, ...] = (50, 95),
    event_id: str | None = None,
) -> list[tuple]:
    """``(group, percent, value)`` of ``column`` over done jobs; ``group`` None means all slots."""
    partition = group if group is not None else literal(1)
    ranked = (
        select(
            partition.label("grp"),
            column.label("value"),
            func.row_number().over(partition_by=partition, order_by=column).label("rnk"),
            func.count().over(partition_by=partition).label("n"),
        )
        .where(*_scope(since, event_id), Job.status == "done", column.is_not(None))
        .subquery()
    )
    rows = []
    for percent in percents:
        query = select(ranked.c.grp, literal(percent), ranked.c.value).where(
            _nearest_rank(ranked.c.rnk, ranked.c.n, percent)
        )
        rows += [tuple(row) for row in await session.execute(query)]
    return rows


def epoch_seconds(session: AsyncSession, column: ColumnElement | InstrumentedAttribute) -> ColumnElement:
    """Seconds since 1970 of a UTC timestamp column, in the session's SQL dialect."""
    if dialect_name(session) == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(func.extract("epoch", column), Integer)


async def timeseries(
    session: AsyncSession, since: datetime, bucket_seconds: int, event_id: str | None = None
) -> tuple[list[tuple], list[tuple]]:
    """``(bucket, status, count)`` rows and ``(bucket, 95, p95 total_ms)`` rows; ``bucket`` is the
    index of the ``bucket_seconds`` interval after ``since``; of ``event_id`` only when given."""
    bucket = ((epoch_seconds(session, Job.received_at) - int(since.timestamp())) // bucket_seconds).label("bucket")
    counts = await session.execute(
        select(bucket, Job.status, func.count()).where(*_scope(since, event_id)).group_by(bucket, Job.status)
    )
    p95 = await percentiles(session, since, Job.total_ms, cast(bucket, Integer), percents=(95,), event_id=event_id)
    return [tuple(row) for row in counts], p95


async def hedges(
    session: AsyncSession, since: datetime, event_id: str | None = None
) -> tuple[list[tuple[str, str | None, int]], dict[str, float]]:
    """Hedges lost (``cancelled`` attempts) as ``(slot_id, route_key, count)`` rows, and the mean
    reported cost of a successful attempt per route key (to estimate what the lost ones cost)."""
    lost = await session.execute(
        select(Job.slot_id, JobAttempt.route_key, func.count())
        .select_from(JobAttempt)
        .join(Job, Job.id == JobAttempt.job_id)
        .where(*_scope(since, event_id), JobAttempt.outcome == "cancelled")
        .group_by(Job.slot_id, JobAttempt.route_key)
    )
    rows = [(slot_id, key, count) for slot_id, key, count in lost]
    keys = sorted({key for _slot, key, _n in rows if key})
    costs: dict[str, float] = {}
    if keys:
        mean = await session.execute(
            select(JobAttempt.route_key, func.avg(JobAttempt.cost_usd))
            .where(JobAttempt.route_key.in_(keys), JobAttempt.outcome == "success", JobAttempt.cost_usd.is_not(None))
            .group_by(JobAttempt.route_key)
        )
        costs = {str(key): float(value) for key, value in mean if value is not None}
    return rows, costs


async def people_lost(session: AsyncSession, since: datetime, event_id: str | None = None) -> list[tuple[str, int]]:
    """``(slot_id, attempts)`` of answers refused by the people check."""
    rows = await session.execute(
        select(Job.slot_id, func.count())
        .select_from(JobAttempt)
        .join(Job, Job.id == JobAttempt.job_id)
        .where(*_scope(since, event_id), JobAttempt.failure_class == "people_lost")
        .group_by(Job.slot_id)
    )
    return [(slot_id, count) for slot_id, count in rows]


async def booth_photos_by_event(session: AsyncSession, event_ids: Sequence[str]) -> dict[str, int]:
    """``{event id: booth photos}`` of ``event_ids`` (booth uploads whose row was written)."""
    if not event_ids:
        return {}
    rows = await session.execute(
        select(Job.event_id, func.count())
        .where(Job.event_id.in_(event_ids), Job.source == "ingest")
        .group_by(Job.event_id)
    )
    return {str(event_id): int(count) for event_id, count in rows}
