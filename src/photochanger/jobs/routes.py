"""Admin job routes: list, detail, original, rerun, and the booth's last requests."""

from datetime import UTC, datetime
from typing import Annotated, cast

from fastapi import APIRouter, Query, Request, Response

from photochanger.auth.dependencies import AdminSession
from photochanger.dependencies import Ctx
from photochanger.errors import ERROR_RESPONSES, ApiError, error_docs
from photochanger.imaging import sniff_mime
from photochanger.jobs import service
from photochanger.jobs.schemas import (
    JOB_ID,
    AttemptView,
    IngestRequestView,
    JobDetail,
    JobPage,
    JobSource,
    JobStatus,
    LateState,
    LateSummary,
    RefusalView,
)
from photochanger.responses import stored_response
from photochanger.urls import public_base

router = APIRouter(prefix="/api", tags=["jobs"], responses=ERROR_RESPONSES)


@router.get("/jobs", response_model=JobPage)
async def list_jobs(
    request: Request,
    ctx: Ctx,
    _: AdminSession,
    slot_id: str | None = None,
    status: JobStatus | None = None,
    source: JobSource | None = None,
    since: Annotated[datetime | None, Query(description="only jobs received at or after (ISO 8601)")] = None,
    late_state: LateState | None = None,
    event_id: Annotated[str | None, Query(max_length=32, description="only the photos of this event")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> JobPage:
    """Jobs newest first, filtered by slot, status, source, time and late delivery's state;
    keyset pagination by ``cursor``."""
    try:
        rows, next_cursor = await service.list_page(
            ctx.db,
            limit=limit,
            cursor=cursor,
            slot_id=slot_id,
            status=status,
            source=source,
            since=since if since is None or since.tzinfo else since.replace(tzinfo=UTC),
            late_state=late_state,
            event_id=event_id,
        )
    except ValueError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None
    base = public_base(ctx.config.public_base_url, str(request.base_url))
    return JobPage(items=[service.summary(job, base) for job in rows], next_cursor=next_cursor)


@router.get("/jobs/late", response_model=LateSummary)
async def late_jobs(ctx: Ctx, _: AdminSession) -> LateSummary:
    """How many jobs still make their AI photo after the booth's deadline (late delivery), and the
    oldest one's time received."""
    count, oldest = await service.late_summary(ctx.db)
    return LateSummary(continuing=count, oldest_received_at=oldest)


@router.post("/jobs/{job_id}/late/cancel", status_code=204, responses=error_docs(404, 409))
async def cancel_late(job_id: str, ctx: Ctx, _: AdminSession) -> Response:
    """Stop making a job's late AI photo (whichever server process runs it stops within
    seconds); the guest keeps what the booth got. 409 ``not_continuing`` when it is not late work."""
    if not JOB_ID.match(job_id) or await service.get(ctx.db, job_id) is None:
        raise ApiError(404, "job_not_found", "no such job", job_id=None)
    if not await service.cancel_late(ctx.db, job_id):
        raise ApiError(409, "not_continuing", "this job's AI photo is not being made any more")
    ctx.continuations.cancel(job_id)
    return Response(status_code=204)


@router.get("/jobs/{job_id}", response_model=JobDetail, responses=error_docs(404))
async def get_job(job_id: str, request: Request, ctx: Ctx, _: AdminSession) -> JobDetail:
    """Everything recorded about one job, with its attempts."""
    found = await service.detail(ctx.db, job_id) if JOB_ID.match(job_id) else None
    if found is None:
        raise ApiError(404, "job_not_found", "no such job", job_id=None)
    job, attempts = found
    view = cast(
        JobDetail, service.summary(job, public_base(ctx.config.public_base_url, str(request.base_url)), JobDetail)
    )
    view.attempt_log = [AttemptView.model_validate(a) for a in attempts]
    if job.input_path and job.media_purged_at is None:
        view.original_url = f"{str(request.base_url).rstrip('/')}/api/jobs/{job.id}/original"
    if job.booth_result_path and job.media_purged_at is None:
        view.booth_result_url = f"{str(request.base_url).rstrip('/')}/api/jobs/{job.id}/booth-answer"
    return view


@router.get("/jobs/{job_id}/booth-answer", response_class=Response, responses=error_docs(404))
async def get_booth_answer(job_id: str, request: Request, ctx: Ctx, _: AdminSession) -> Response:
    """The image the booth got, for a job whose late AI photo replaced it as the result (admins only)."""
    missing = ApiError(404, "result_not_found", "no booth answer kept apart for this job")
    return await _job_file(request, ctx, job_id, "booth_result_path", missing)


@router.get("/jobs/{job_id}/original", response_class=Response, responses=error_docs(404))
async def get_original(job_id: str, request: Request, ctx: Ctx, _: AdminSession) -> Response:
    """The photo as the booth sent it (admins only)."""
    missing = ApiError(404, "original_not_found", "no stored original for this job")
    return await _job_file(request, ctx, job_id, "input_path", missing)


async def _job_file(request: Request, ctx: Ctx, job_id: str, column: str, missing: ApiError) -> Response:
    """A job's stored file (its ``column`` path) with the MIME type its bytes show, never the
    client's declared one (an HTML "photo" stays inert: an unknown type is a download); ``missing``
    when there is none."""
    job = await service.get(ctx.db, job_id) if JOB_ID.match(job_id) else None
    path = getattr(job, column) if job is not None else None
    if job is None or path is None:
        raise missing
    try:
        kind = sniff_mime(await ctx.store.read_prefix(path, 16))
        return await stored_response(
            request,
            ctx.store,
            path,
            kind or "application/octet-stream",
            cache_control="private, no-cache",
            filename=None if kind else f"{job.id}.bin",
            attachment=kind is None,
        )
    except FileNotFoundError:
        raise missing from None
    except OSError as exc:
        raise ApiError.storage_unavailable() from exc


@router.get("/ingest/refused", response_model=list[RefusalView])
async def refused_ingests(ctx: Ctx, _: AdminSession, limit: Annotated[int, Query(ge=1, le=200)] = 20):
    """Booth requests refused before their password checked out (wrong or missing password,
    throttled, too slow, too large…), one line per address and reason with a count: they have no
    job rows, so a guessing flood never pushes real booths out of ``/api/jobs/ingest/last``. Counted
    in this server process's memory since it started."""
    return [RefusalView.model_validate(r, from_attributes=True) for r in ctx.refusals.recent(limit)]


@router.get("/ingest/last", response_model=list[IngestRequestView])
async def last_ingests(ctx: Ctx, _: AdminSession, limit: Annotated[int, Query(ge=1, le=100)] = 20):
    """The most recent booth requests as received: fields, headers (no secrets), size, outcome."""
    rows, _next = await service.list_page(ctx.db, limit=limit, source="ingest")
    return [IngestRequestView.model_validate(job) for job in rows]
