"""Job lifecycle: opened when a request reaches a slot, updated as it progresses, finished once."""

import asyncio
import base64
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.db import STORAGE_ERRORS, Database, utcnow
from photochanger.jobs import repository
from photochanger.jobs.models import Job, JobAttempt
from photochanger.jobs.schemas import AttemptRecord, JobEnd, JobSummary, LateEnd, OriginalRecord
from photochanger.leases.service import HOLDER
from photochanger.spend import repository as spend
from photochanger.urls import result_url, thumbnail_url
from photochanger.webhooks import repository as webhooks

log = structlog.get_logger("photochanger.jobs")
UNWRITTEN_ENDS_LIMIT = 10_000  # job ends kept in memory while the database is away (a few KiB each)
LATE_PER_PROCESS = 32  # continuing jobs one process runs at once (each mostly waits on its provider)


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
    event_of: Callable[[AsyncSession], Awaitable[str | None]] | None = None,
) -> None:
    """Insert the ``pending`` row (one short transaction); ``event_of`` reads the id of the event
    live for the slot in that transaction (the photo's path opens no other for it)."""
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
        event_id = await event_of(session) if event_of else None
        await repository.insert_job(session, {**row, "event_id": event_id})


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
    rows = _attempt_rows(job_id, end.attempts)
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
    if end.late_deadline_at is not None:  # the AI photo is still being made: this process holds it
        values |= {
            "late_state": "continuing",
            "late_deadline_at": end.late_deadline_at,
            "late_owner": HOLDER,
            "late_lease_until": utcnow() + timedelta(seconds=end.late_lease_seconds),
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
        if end.webhook is not None:  # with the end: a delivery is never lost, nor made for an unwritten end
            await webhooks.add(session, [end.webhook])
        await _settle(session, end.spend)


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

    def __contains__(self, job_id: str) -> bool:
        return job_id in self._ends

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


async def _settle(session, settlements) -> None:
    """Turn the job's spend reservations into what its attempts cost (in the end's transaction)."""
    for scope, reserved, spent in settlements:
        await spend.settle(session, scope, reserved, spent)


def _attempt_rows(job_id: str, attempts) -> list[dict]:
    return [{"job_id": job_id, "number": n, **a.model_dump()} for n, a in enumerate(attempts, start=1)]


async def finish_late(db: Database, job_id: str, end: LateEnd) -> bool:
    """Write how a job's late work ended, with its whole attempt history, if this process still
    holds it (False: an admin cancelled it or another process took it over; nothing written). A
    delivered AI photo becomes the job's result (the booth's answer kept as ``booth_result_path``)
    and the job ``done``."""
    values: dict = {"late_state": end.state, "late_finished_at": utcnow(), "late_lease_until": None}
    values["late_failure_reason"] = end.failure_reason
    values["attempts"] = sum(1 for a in end.attempts if a.outcome not in ("skipped", "in_flight"))
    if end.cost_usd is not None:
        values["cost_usd"] = end.cost_usd
    async with db.transaction(write=True) as session:
        job = await repository.get(session, job_id)
        if job is None:
            return False
        if end.result is not None:
            values |= {
                "status": "done",
                "booth_result_path": job.result_path,
                "result_path": end.result.path,
                "result_mime": end.result.mime,
                "result_bytes": end.result.size_bytes,
                "result_width": end.result.width,
                "result_height": end.result.height,
                "provider": end.provider,
                "model": end.model,
                "route_index": end.route_index,
                "prompt": end.prompt or job.prompt,
                "provider_ms": end.provider_ms,
            }
        if not await repository.finish_late(session, job_id, HOLDER, values):
            return False
        await repository.replace_attempts(session, job_id, _attempt_rows(job_id, end.attempts))
        if end.webhook is not None:
            await webhooks.add(session, [end.webhook])
        await _settle(session, end.spend)
    return True


async def record_in_flight(db: Database, job_id: str, number: int, attempt: AttemptRecord) -> None:
    """Write a late attempt down before its provider call (``in_flight``): if the process dies
    during the call, the call is on record (``interrupted`` once another process resumes)."""
    async with db.transaction(write=True) as session:
        await repository.add_attempts(session, [{"job_id": job_id, "number": number, **attempt.model_dump()}])


async def resume_attempts(db: Database, job_id: str) -> list[AttemptRecord]:
    """A resumed late job's attempts so far, those cut off by a dead process made ``interrupted``."""
    async with db.transaction(write=True) as session:
        await repository.interrupt_in_flight(session, job_id)
        rows = await repository.list_attempts(session, job_id)
    return [AttemptRecord.model_validate(row) for row in rows]


async def renew_late(db: Database, job_ids: list[str], lease_seconds: float) -> set[str]:
    """Renew this process's leases of ``job_ids`` for ``lease_seconds``; the ids it still holds
    (the others were cancelled or taken over: their work must stop)."""
    if not job_ids:
        return set()
    async with db.transaction(write=True) as session:
        return await repository.renew_late(session, job_ids, HOLDER, utcnow() + timedelta(seconds=lease_seconds))


async def claim_late(db: Database, limit: int, lease_seconds: float, lapsed_only: bool = True) -> list[Job]:
    """Take over at most ``limit`` continuing jobs for this process for ``lease_seconds``: those
    whose lease lapsed (their process died or stopped), or every one (``lapsed_only=False``:
    SQLite's one process at start, when whatever holds a lease is dead)."""
    if limit <= 0:
        return []
    now = utcnow()
    async with db.transaction(write=True) as session:
        return await repository.claim_late(
            session, HOLDER, now, now + timedelta(seconds=lease_seconds), limit, lapsed_only
        )


async def release_late(db: Database, job_ids: list[str]) -> None:
    """Let this process's leases of ``job_ids`` lapse at once (it is stopping), so another takes over."""
    async with db.transaction(write=True) as session:
        await repository.release_late(session, job_ids, HOLDER, utcnow())


async def cancel_late(db: Database, job_id: str) -> bool:
    """An admin ends a job's late work; False when it was not continuing."""
    async with db.transaction(write=True) as session:
        return await repository.cancel_late(session, job_id, utcnow())


async def late_summary(db: Database) -> tuple[int, datetime | None]:
    """Continuing jobs: how many, and when the oldest was received (UTC)."""
    async with db.transaction() as session:
        return await repository.late_summary(session)


class Continuations:
    """The late jobs this process is running, as tasks by job id, at most ``limit`` at once. A
    task removes itself when it ends. Lease renewal, take-over and cancellation across processes
    are the database's (:func:`renew_late`, :func:`claim_late`, :func:`cancel_late`)."""

    def __init__(self, limit: int = LATE_PER_PROCESS) -> None:
        self.limit = limit
        self._tasks: dict[str, asyncio.Task] = {}

    def __contains__(self, job_id: str) -> bool:
        return job_id in self._tasks

    def ids(self) -> list[str]:
        """Job ids running here."""
        return list(self._tasks)

    def room(self) -> int:
        """How many more this process takes."""
        return max(0, self.limit - len(self._tasks))

    def adopt(self, job_id: str, work: Coroutine[Any, Any, None]) -> asyncio.Task:
        """Run ``work`` for ``job_id`` in the background (a late job may exceed ``limit`` when its
        booth just handed it over: that attempt is already under way)."""
        task = asyncio.create_task(work, name=f"late-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _done: self._tasks.pop(job_id, None))
        return task

    def cancel(self, job_id: str) -> bool:
        """Stop ``job_id``'s work here; False when it does not run here."""
        task = self._tasks.get(job_id)
        if task is None:
            return False
        task.cancel()
        return True

    async def stop(self) -> list[str]:
        """Cancel every task (the process is stopping) and wait for them; the ids they held."""
        ids = self.ids()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return ids


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
    late_state: str | None = None,
    event_id: str | None = None,
) -> tuple[list[Job], str | None]:
    """A page of jobs and the cursor of the next one (None at the end), filtered by slot, status,
    source, time received (at or after ``since``), late delivery's state and event."""
    before = decode_cursor(cursor) if cursor else None
    async with db.transaction() as session:
        rows = await repository.page(
            session,
            limit=limit + 1,
            before=before,
            slot_id=slot_id,
            status=status,
            source=source,
            since=since,
            late_state=late_state,
            event_id=event_id,
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
