"""SQL for the public gallery: shared results and request buckets."""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.db import rows_affected
from photochanger.jobs.models import Job


async def recent_results(
    session: AsyncSession,
    now: datetime,
    limit: int,
    slots: list[str] | None = None,
    since: datetime | None = None,
    approved_only: bool = False,
    event_id: str | None = None,
) -> list[tuple[str, datetime]]:
    """``(job_id, received_at)`` of booth results still downloadable and not hidden, of ``slots``
    (None: all) received from ``since`` (None: any time), only approved ones if ``approved_only``,
    of ``event_id`` only when given, newest first."""
    conditions = [
        Job.status == "done",
        Job.source == "ingest",
        Job.media_purged_at.is_(None),
        Job.hidden_at.is_(None),
        Job.result_expires_at > now,
    ]
    if slots is not None:
        conditions.append(Job.slot_id.in_(slots))
    if since is not None:
        conditions.append(Job.received_at >= since)
    if approved_only:
        conditions.append(Job.approved_at.is_not(None))
    if event_id is not None:
        conditions.append(Job.event_id == event_id)
    rows = await session.execute(
        select(Job.id, Job.received_at).where(*conditions).order_by(Job.received_at.desc()).limit(limit)
    )
    return [(row[0], row[1]) for row in rows]


async def set_hidden(session: AsyncSession, job_id: str, at: datetime | None) -> bool:
    """Hide (``at``) or show (None) a job's result to guests; False if there is no such job."""
    done = await session.execute(update(Job).where(Job.id == job_id).values(hidden_at=at))
    return rows_affected(done) == 1


async def set_approved(session: AsyncSession, job_id: str, at: datetime | None) -> bool:
    """Approve (``at``) a job's result for a gallery shared with approval, or withdraw it (None);
    False if there is no such job."""
    done = await session.execute(update(Job).where(Job.id == job_id).values(approved_at=at))
    return rows_affected(done) == 1


async def media_of(session: AsyncSession, job_id: str) -> tuple[str | None, str | None] | None:
    """``(input_path, result_path)`` of a job, or None if there is no such job."""
    row = (await session.execute(select(Job.input_path, Job.result_path).where(Job.id == job_id))).first()
    return (row[0], row[1]) if row else None


async def mark_media_deleted(session: AsyncSession, job_id: str, at: datetime) -> None:
    """Record that the job's files are gone (its links then answer 410)."""
    await session.execute(update(Job).where(Job.id == job_id).values(media_purged_at=at))
