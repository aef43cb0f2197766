"""SQL for jobs and attempts."""

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.db import rows_affected
from photochanger.jobs.models import Job, JobAttempt

JOBS = cast(Table, Job.__table__)  # the Core tables of the ORM classes, for bulk statements
ATTEMPTS = cast(Table, JobAttempt.__table__)


async def insert_job(session: AsyncSession, values: dict) -> None:
    """Insert one job row from ``values`` (column → value; column defaults fill the rest). A Core
    INSERT: no ORM unit of work for a row nobody reads back in this transaction."""
    await session.execute(insert(JOBS), values)


async def get(session: AsyncSession, job_id: str) -> Job | None:
    """The job with ``job_id``, or None."""
    return await session.get(Job, job_id)


async def update_fields(session: AsyncSession, job_id: str, fields: dict) -> None:
    """Set ``fields`` (column → value) on one job (a Core UPDATE: no ORM session to synchronise)."""
    await session.execute(update(JOBS).where(JOBS.c.id == job_id).values(**fields))


async def add_attempts(session: AsyncSession, attempts: Sequence[dict]) -> None:
    """Store attempt rows (column → value each) in one executemany INSERT."""
    if attempts:
        await session.execute(insert(ATTEMPTS), list(attempts))


async def list_attempts(session: AsyncSession, job_id: str) -> list[JobAttempt]:
    """Attempts of one job in order."""
    rows = await session.scalars(select(JobAttempt).where(JobAttempt.job_id == job_id).order_by(JobAttempt.number))
    return list(rows)


async def mark_interrupted(session: AsyncSession, now: datetime) -> int:
    """Mark ``pending`` jobs whose deadline has passed as ``interrupted``; returns how many.

    Only a job whose process died can still be pending after its deadline, so this is safe to
    run while other server processes share the database.
    """
    result = await session.execute(
        update(Job)
        .where(Job.status == "pending", Job.deadline_at < now)
        .values(status="interrupted", failure_reason="interrupted", finished_at=now)
    )
    return rows_affected(result)


async def expired_media(
    session: AsyncSession, now: datetime, limit: int, after_id: str = ""
) -> list[tuple[str, str | None, str | None]]:
    """``(job_id, input_path, result_path)`` of jobs past their media expiry and not yet purged,
    ordered by id, starting after ``after_id`` (keyset pagination)."""
    rows = await session.execute(
        select(Job.id, Job.input_path, Job.result_path)
        .where(Job.result_expires_at < now, Job.media_purged_at.is_(None), Job.id > after_id)
        .order_by(Job.id)
        .limit(limit)
    )
    return [(job_id, original, result) for job_id, original, result in rows]


async def mark_purged(session: AsyncSession, job_ids: Sequence[str], now: datetime) -> None:
    """Record that the media of ``job_ids`` is gone."""
    await session.execute(update(Job).where(Job.id.in_(job_ids)).values(media_purged_at=now))


async def page(
    session: AsyncSession,
    *,
    limit: int,
    slot_id: str | None = None,
    status: str | None = None,
    source: str | None = None,
    since: datetime | None = None,
    before: tuple[datetime, str] | None = None,
) -> list[Job]:
    """Jobs newest first (``received_at``, then id), filtered (``since``: received at or after),
    strictly after the keyset ``before``."""
    query = select(Job).order_by(Job.received_at.desc(), Job.id.desc()).limit(limit)
    if since:
        query = query.where(Job.received_at >= since)
    if slot_id:
        query = query.where(Job.slot_id == slot_id)
    if status:
        query = query.where(Job.status == status)
    if source:
        query = query.where(Job.source == source)
    if before:
        at, job_id = before
        query = query.where(or_(Job.received_at < at, and_(Job.received_at == at, Job.id < job_id)))
    return list(await session.scalars(query))


async def latest_per_slot(session: AsyncSession, only_done: bool = False) -> dict[str, tuple[str, datetime, str]]:
    """``slot_id → (status, received_at, job_id)`` of each slot's newest (done) job, in one query."""
    ranked = select(
        Job.slot_id,
        Job.status,
        Job.received_at,
        Job.id,
        func.row_number().over(partition_by=Job.slot_id, order_by=(Job.received_at.desc(), Job.id.desc())).label("rn"),
    )
    if only_done:
        ranked = ranked.where(Job.status == "done", Job.media_purged_at.is_(None))
    ranked = ranked.subquery()
    rows = await session.execute(
        select(ranked.c.slot_id, ranked.c.status, ranked.c.received_at, ranked.c.id).where(ranked.c.rn == 1)
    )
    return {slot_id: (status, at, job_id) for slot_id, status, at, job_id in rows}


async def recent_client_input(session: AsyncSession, slot_id: str, limit: int) -> list[tuple[dict | None, str | None]]:
    """``(client_fields, query_string)`` of the slot's newest ``limit`` booth uploads."""
    rows = await session.execute(
        select(Job.client_fields, Job.query_string)
        .where(Job.slot_id == slot_id, Job.source == "ingest")
        .order_by(Job.received_at.desc())
        .limit(limit)
    )
    return [(fields, query) for fields, query in rows]
