"""Job lifecycle: opened when a request reaches a slot, updated as it progresses, finished once."""

import base64
from datetime import datetime
from urllib.parse import parse_qs

import structlog

from photochanger.db import STORAGE_ERRORS, Database, utcnow
from photochanger.jobs import repository
from photochanger.jobs.models import Job, JobAttempt
from photochanger.jobs.schemas import JobEnd, JobSummary, OriginalRecord
from photochanger.urls import result_url, thumbnail_url

log = structlog.get_logger("photochanger.jobs")
UNWRITTEN_ENDS_LIMIT = 10_000  # job ends kept in memory while the database is away (a few KiB each)


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
    row = dict(
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
    async with db.transaction(write=True) as session:
        await repository.insert_job(session, row)


async def record_original(db: Database, job_id: str, original: OriginalRecord) -> None:
    """The original is stored: record where, what and the booth's fields (so nothing is lost if
    the process dies after this point)."""
    values = {
        "input_path": original.path,
        "input_mime": original.mime,
        "input_bytes": original.size_bytes,
        "input_sha256": original.sha256,
        "client_fields": original.client_fields,
        "result_expires_at": original.expires_at,
    }
    async with db.transaction(write=True) as session:
        await repository.update_fields(session, job_id, values)


async def finish(db: Database, job_id: str, end: JobEnd) -> None:
    """Write how the job ended and its attempts, atomically (one short transaction)."""
    rows = [{"job_id": job_id, "number": n, **a.model_dump()} for n, a in enumerate(end.attempts, start=1)]
    values = {
        "status": end.status,
        "http_status": end.http_status,
        "failure_reason": end.failure_reason,
        "failure_detail": end.failure_detail,
        "provider": end.provider,
        "model": end.model,
        "route_index": end.route_index,
        "fallback": end.fallback,
        "provider_ms": end.provider_ms,
        "queue_ms": end.queue_ms,
        "total_ms": end.total_ms,
        "cost_usd": end.cost_usd,
        "prompt": end.prompt,
        "attempts": sum(1 for a in end.attempts if a.outcome != "skipped"),
        "finished_at": utcnow(),
    }
    if end.client_fields is not None:
        values["client_fields"] = end.client_fields
    if end.input_size is not None:
        values["input_width"], values["input_height"] = end.input_size
    if end.result is not None:
        values |= {
            "result_path": end.result.path,
            "result_mime": end.result.mime,
            "result_bytes": end.result.size_bytes,
            "result_width": end.result.width,
            "result_height": end.result.height,
        }
    async with db.transaction(write=True) as session:
        await repository.update_fields(session, job_id, values)
        await repository.add_attempts(session, rows)


class UnwrittenEnds:
    """Job ends the database refused (unreachable, restarting, locked), kept in memory in arrival
    order and written by :meth:`flush` once it takes writes again, so a job whose photo was
    answered never stays ``pending``. At most ``limit`` ends are kept; one more drops the oldest
    (logged; that row is left to :func:`recover_interrupted`)."""

    def __init__(self, limit: int = UNWRITTEN_ENDS_LIMIT) -> None:
        self.limit = limit
        self._ends: dict[str, JobEnd] = {}

    def __len__(self) -> int:
        return len(self._ends)

    def keep(self, job_id: str, end: JobEnd) -> None:
        """Keep ``end`` of ``job_id`` for a later :meth:`flush`."""
        self._ends.pop(job_id, None)
        self._ends[job_id] = end
        if len(self._ends) > self.limit:
            dropped = next(iter(self._ends))
            del self._ends[dropped]
            log.error("jobs.end_dropped", job_id=dropped, kept=self.limit)

    async def flush(self, db: Database) -> int:
        """Write the kept ends, oldest first; stops at the first the database refuses (it is still
        away). Returns how many were written."""
        written = 0
        for job_id, end in list(self._ends.items()):
            try:
                await finish(db, job_id, end)
            except STORAGE_ERRORS:
                break
            self._ends.pop(job_id, None)
            written += 1
        if written:
            log.info("jobs.ends_written", count=written, still_kept=len(self._ends))
        return written


async def finish_or_keep(db: Database, unwritten: UnwrittenEnds, job_id: str, end: JobEnd) -> bool:
    """:func:`finish`, or, when the database refuses it, keep ``end`` in ``unwritten`` for later
    (logged). True when written now."""
    try:
        await finish(db, job_id, end)
    except STORAGE_ERRORS as exc:
        cause = getattr(exc, "orig", None) or exc
        log.warning("jobs.end_kept", job_id=job_id, status=end.status, error=type(cause).__name__)
        unwritten.keep(job_id, end)
        return False
    return True


def summary(job: Job, base: str, model: type[JobSummary] = JobSummary) -> JobSummary:
    """A job as shown in lists (or as ``model``, e.g. ``JobDetail``), with public links of its
    result when it has one; ``base`` is the public base URL."""
    view = model.model_validate(job)
    if job.result_path and job.media_purged_at is None:
        view.result_url, view.thumbnail_url = result_url(base, job.id), thumbnail_url(base, job.id)
    return view


async def get(db: Database, job_id: str) -> Job | None:
    """The job row, or None."""
    async with db.transaction() as session:
        return await repository.get(session, job_id)


async def recover_interrupted(db: Database) -> int:
    """Mark jobs left ``pending`` past their deadline (their process died) as ``interrupted``."""
    async with db.transaction(write=True) as session:
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
    db: Database,
    *,
    limit: int,
    cursor: str | None = None,
    slot_id: str | None = None,
    status: str | None = None,
    source: str | None = None,
    since: datetime | None = None,
) -> tuple[list[Job], str | None]:
    """A page of jobs and the cursor of the next one (None at the end), filtered by slot, status,
    source and time received (at or after ``since``)."""
    before = decode_cursor(cursor) if cursor else None
    async with db.transaction() as session:
        rows = await repository.page(
            session, limit=limit + 1, before=before, slot_id=slot_id, status=status, source=source, since=since
        )
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


async def recent_client_fields(db: Database, slot_id: str, jobs: int = 50) -> set[str]:
    """Form fields and ``query.<parameter>`` names of the slot's last ``jobs`` booth uploads."""
    async with db.transaction() as session:
        rows = await repository.recent_client_input(session, slot_id, jobs)
    names: set[str] = set()
    for fields, query in rows:
        names |= {k for k in (fields or {}) if k not in ("rerun_of",)}
        names |= {f"query.{k}" for k in parse_qs(query or "")}
    return names
