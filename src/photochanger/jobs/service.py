"""Job lifecycle: opened when a request reaches a slot, updated as it progresses, finished once."""

import base64
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from photochanger.db import Database, utcnow
from photochanger.jobs import repository
from photochanger.jobs.models import Job, JobAttempt
from photochanger.routing.router import AttemptRecord


async def open_job(
    db: Database,
    *,
    job_id: str,
    slot_id: str,
    source: str,
    received_at: datetime,
    deadline_at: datetime,
    client_ip: str | None,
    query_string: str | None,
    client_headers: dict[str, str] | None = None,
) -> None:
    """Insert the ``pending`` row (one short transaction)."""
    job = Job(
        id=job_id,
        slot_id=slot_id,
        source=source,
        status="pending",
        attempts=0,
        received_at=received_at,
        deadline_at=deadline_at,
        client_ip=client_ip,
        client_fields={},
        client_headers=client_headers,
        query_string=query_string,
    )
    async with db.transaction() as session:
        await repository.insert(session, job)


async def update(db: Database, job_id: str, **fields: object) -> None:
    """Record progress (e.g. the stored original) so nothing is lost if the process dies."""
    async with db.transaction() as session:
        await repository.update_fields(session, job_id, fields)


async def finish(db: Database, job_id: str, attempts: Sequence[AttemptRecord] = (), **fields: object) -> None:
    """Write the final state (``status``, reason, timings, result…) and the attempts, atomically."""
    rows = [JobAttempt(job_id=job_id, number=n, **asdict(a)) for n, a in enumerate(attempts, start=1)]
    tried = sum(1 for a in attempts if a.outcome != "skipped")
    async with db.transaction() as session:
        await repository.update_fields(session, job_id, {"finished_at": utcnow(), "attempts": tried, **fields})
        await repository.add_attempts(session, rows)


async def get(db: Database, job_id: str) -> Job | None:
    """The job row, or None."""
    async with db.transaction() as session:
        return await repository.get(session, job_id)


async def recover_interrupted(db: Database) -> int:
    """Mark jobs left ``pending`` past their deadline (their process died) as ``interrupted``."""
    async with db.transaction() as session:
        return await repository.mark_interrupted(session, utcnow())


def encode_cursor(job: Job) -> str:
    """Opaque keyset cursor of ``job`` (its ``received_at`` and id)."""
    return base64.urlsafe_b64encode(f"{job.received_at.isoformat()}|{job.id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Inverse of :func:`encode_cursor`; ``ValueError`` if malformed."""
    try:
        at, job_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), job_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("malformed cursor") from exc


async def list_page(
    db: Database, *, limit: int, cursor: str | None = None, **filters: str | datetime | None
) -> tuple[list[Job], str | None]:
    """A page of jobs and the cursor of the next one (None at the end)."""
    before = decode_cursor(cursor) if cursor else None
    async with db.transaction() as session:
        rows = await repository.page(session, limit=limit + 1, before=before, **filters)
    return rows[:limit], encode_cursor(rows[limit - 1]) if len(rows) > limit else None


async def detail(db: Database, job_id: str) -> tuple[Job, list[JobAttempt]] | None:
    """The job and its attempts, or None."""
    async with db.transaction() as session:
        job = await repository.get(session, job_id)
        return (job, await repository.list_attempts(session, job_id)) if job else None


async def latest_per_slot(db: Database, only_done: bool = False) -> dict[str, tuple[str, datetime, str]]:
    """Each slot's newest (``only_done``: newest successful) job: status, time, id."""
    async with db.transaction() as session:
        return await repository.latest_per_slot(session, only_done)
