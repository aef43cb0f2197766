"""SQL for jobs and attempts."""

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, delete, func, insert, or_, select, update
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
) -> list[tuple[str, str | None, str | None, str | None]]:
    """``(job_id, input_path, result_path, booth_result_path)`` of jobs past their media expiry
    and not yet purged, ordered by id, starting after ``after_id`` (keyset pagination)."""
    rows = await session.execute(
        select(Job.id, Job.input_path, Job.result_path, Job.booth_result_path)
        .where(Job.result_expires_at < now, Job.media_purged_at.is_(None), Job.id > after_id)
        .order_by(Job.id)
        .limit(limit)
    )
    return [(job_id, original, result, booth) for job_id, original, result, booth in rows]


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
    late_state: str | None = None,
    event_id: str | None = None,
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
    if late_state:
        query = query.where(Job.late_state == late_state)
    if event_id:
        query = query.where(Job.event_id == event_id)
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


async def replace_attempts(session: AsyncSession, job_id: str, attempts: Sequence[dict]) -> None:
    """Replace every attempt row of ``job_id`` by ``attempts`` (a late job's full history)."""
    await session.execute(delete(ATTEMPTS).where(ATTEMPTS.c.job_id == job_id))
    await add_attempts(session, attempts)


async def interrupt_in_flight(session: AsyncSession, job_id: str) -> None:
    """Attempts written before their call whose process died during it become ``interrupted``."""
    await session.execute(
        update(ATTEMPTS)
        .where(ATTEMPTS.c.job_id == job_id, ATTEMPTS.c.outcome == "in_flight")
        .values(outcome="interrupted", failure_code="interrupted", detail="the server process stopped during the call")
    )


async def finish_late(session: AsyncSession, job_id: str, owner: str, values: dict) -> bool:
    """Set ``values`` on a job still ``continuing`` under ``owner``; False when it is not (an admin
    cancelled it, or another process took it over)."""
    result = await session.execute(
        update(JOBS)
        .where(JOBS.c.id == job_id, JOBS.c.late_state == "continuing", JOBS.c.late_owner == owner)
        .values(**values)
    )
    return rows_affected(result) == 1


async def renew_late(session: AsyncSession, job_ids: Sequence[str], owner: str, until: datetime) -> set[str]:
    """Extend ``owner``'s leases of ``job_ids`` to ``until``; returns the ids it still holds."""
    if not job_ids:
        return set()
    held = and_(JOBS.c.id.in_(job_ids), JOBS.c.late_state == "continuing", JOBS.c.late_owner == owner)
    await session.execute(update(JOBS).where(held).values(late_lease_until=until))
    return set(await session.scalars(select(JOBS.c.id).where(held)))


async def claim_late(
    session: AsyncSession, owner: str, now: datetime, until: datetime, limit: int, lapsed_only: bool
) -> list[Job]:
    """Take over at most ``limit`` continuing jobs (with ``lapsed_only``, only those whose lease has
    lapsed), oldest first, for ``owner`` until ``until``. PostgreSQL: ``FOR UPDATE SKIP LOCKED``,
    so two processes never take the same job."""
    query = select(JOBS.c.id).where(JOBS.c.late_state == "continuing")
    if lapsed_only:
        query = query.where(or_(JOBS.c.late_lease_until.is_(None), JOBS.c.late_lease_until < now))
    query = query.order_by(JOBS.c.received_at).limit(limit).with_for_update(skip_locked=True)
    ids = list(await session.scalars(query))
    if not ids:
        return []
    await session.execute(update(JOBS).where(JOBS.c.id.in_(ids)).values(late_owner=owner, late_lease_until=until))
    return list(await session.scalars(select(Job).where(Job.id.in_(ids)).order_by(Job.received_at)))


async def release_late(session: AsyncSession, job_ids: Sequence[str], owner: str, now: datetime) -> None:
    """Let the leases of ``owner``'s ``job_ids`` lapse now (a process stopping cleanly)."""
    if job_ids:
        await session.execute(
            update(JOBS)
            .where(JOBS.c.id.in_(job_ids), JOBS.c.late_state == "continuing", JOBS.c.late_owner == owner)
            .values(late_lease_until=now)
        )


async def cancel_late(session: AsyncSession, job_id: str, now: datetime) -> bool:
    """End a continuing job's late work (``cancelled``); False when it is not continuing."""
    result = await session.execute(
        update(JOBS)
        .where(JOBS.c.id == job_id, JOBS.c.late_state == "continuing")
        .values(late_state="cancelled", late_finished_at=now, late_lease_until=None)
    )
    return rows_affected(result) == 1


async def late_summary(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many jobs continue after their booth's deadline, and when the oldest was received."""
    row = (
        await session.execute(
            select(func.count(), func.min(JOBS.c.received_at)).where(JOBS.c.late_state == "continuing")
        )
    ).one()
    return int(row[0]), row[1]
