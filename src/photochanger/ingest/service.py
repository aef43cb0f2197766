"""The ingest pipeline, top to bottom: open the job → obtain the original → check it → generate
under the deadline → deliver the result → record how it ended.

One function, :func:`run`, serves all three sources (:mod:`photochanger.ingest.sources`): the
booth's upload, an admin's test run and a rerun. Order of checks for a booth upload (each a
stable ``failure_reason``): slot exists (404 ``slot_not_found``) and is active (403
``slot_disabled``); declared ``Content-Length`` over the limit (413, answered before the body is
read); password (401 ``invalid_password``); required fields (400 ``invalid_request``); size while
streaming (413 ``payload_too_large``); type by magic bytes and a real decode (415
``unsupported_media_type``); a place in the in-flight limits (waits, or 429 ``rate_limited``);
then the routes (:mod:`photochanger.routing`). Every request that reaches a slot is a job row;
after authentication the original photo is kept until the media TTL whatever happens next.
Raises :class:`ApiError` for every answer but success.
"""

import asyncio
import contextlib
import hashlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import structlog
from sqlalchemy.exc import DBAPIError

from photochanger import faces, urls
from photochanger.context import AppContext
from photochanger.db import STORAGE_ERRORS, utcnow
from photochanger.deadline import Deadline
from photochanger.errors import ApiError
from photochanger.events import service as events
from photochanger.imaging import (
    EXTENSION_BY_MIME,
    EncodedImage,
    PreparedPhoto,
    UnsupportedImage,
    check_answer,
    prepare,
    sniff_mime,
)
from photochanger.ingest import upload as booth
from photochanger.ingest.failures import failure_answer
from photochanger.ingest.multipart import ReceivedForm
from photochanger.ingest.sources import BoothUpload, Origin, Rerun, Source, TestPhoto
from photochanger.jobs import service as jobs
from photochanger.jobs.models import Job
from photochanger.jobs.schemas import JOB_ID, AttemptRecord, JobEnd, LateEnd, OriginalRecord, ResultRecord
from photochanger.media import service as media
from photochanger.metrics import INGEST_REJECTED_IN_FLIGHT, INGEST_REQUESTS, INGEST_SECONDS, LATE_JOBS
from photochanger.prompts import render
from photochanger.providers.base import FailureKind, InputImage, ProviderFailure, ProviderImage
from photochanger.providers.registry import InvalidSettings
from photochanger.routing import service as routing
from photochanger.routing.admission import LATE, LimitReached, Place
from photochanger.routing.router import (
    RESPONSE_MARGIN_SECONDS,
    RETRY_HEADROOM_SECONDS,
    Finished,
    Route,
    RunContext,
    RunFailed,
    RunOutcome,
    run_routes,
)
from photochanger.settings import service as settings_service
from photochanger.settings.schemas import RuntimeSettings
from photochanger.slots import service as slots
from photochanger.slots.schemas import SlotView
from photochanger.spend import service as spend
from photochanger.webhooks import service as webhooks
from photochanger.workers import HEAVY_BYTES, HEAVY_PIXELS, PoolBusy

log = structlog.get_logger("photochanger.ingest")
RESULT_WRITE_SECONDS = 5.0  # longest wait for the store to keep a finished result (the guest gets it anyway)
LATE_WRITE_TRIES = 15  # a late end the database refuses is tried again this many times, LATE_WRITE_PAUSE apart
LATE_WRITE_PAUSE = 2.0  # seconds


@dataclass(frozen=True)
class IngestSuccess:
    """The edited image for the booth, and where it can be seen and downloaded later. ``fallback``:
    ``route`` or ``original`` when the primary route did not make it; ``late`` when its AI photo
    is still being made for the take-home page (late delivery)."""

    job_id: str
    image: EncodedImage
    result_url: str  # the raw image
    take_home_url: str  # the guest's page: photo, Download, QR
    fallback: str | None = None
    late: bool = False  # the AI photo is still being made (late delivery): the take-home page gets it


@dataclass
class LateRun:
    """A job's AI routes running under the slot's late limit (``deadline``; ``deadline_at`` in
    UTC) beside the booth's wait. ``handed_off`` once the booth was answered without them: from
    then on the run is late work (image work at low priority, :func:`_continue` finishes it).
    ``started`` holds the attempts whose provider call is under way (not yet recorded)."""

    deadline: Deadline
    deadline_at: datetime
    limits: dict[str, int] = field(default_factory=dict)  # the in-flight limits its calls count against
    task: asyncio.Future | None = None
    handed_off: bool = False
    started: dict[tuple[int, datetime], AttemptRecord] = field(default_factory=dict)
    places: dict[tuple[int, datetime], Place] = field(default_factory=dict)  # a place per later call
    releasing: set[asyncio.Task] = field(default_factory=set)

    def in_flight(self) -> list[AttemptRecord]:
        """The attempts under way, as ``in_flight`` records."""
        return list(self.started.values())

    def ended(self, key: tuple[int, datetime]) -> None:
        """The call ``key`` ended: give back the place it held, if it took one."""
        self.started.pop(key, None)
        place = self.places.pop(key, None)
        if place is not None and place.held:
            task = asyncio.ensure_future(place.release())
            self.releasing.add(task)
            task.add_done_callback(self.releasing.discard)

    async def release_all(self) -> None:
        """Give back every place still held (the run ended however it ended)."""
        for place in self.places.values():
            await place.release()
        self.places.clear()
        if self.releasing:
            await asyncio.gather(*self.releasing, return_exceptions=True)


@dataclass
class JobInProgress:
    """What one job has gathered so far; written to its row when it ends, however it ends.
    ``start`` is on the context's monotonic clock (seconds)."""

    job_id: str
    slot: SlotView
    origin: Origin
    start: float
    received_at: datetime
    runtime: RuntimeSettings
    deadline: Deadline
    keys: Callable[[str], list[str]]  # a provider's API keys, read with the settings
    form: ReceivedForm = field(default_factory=ReceivedForm)
    attempts: list[AttemptRecord] = field(default_factory=list)
    provider: str | None = None
    model: str | None = None
    provider_ms: int | None = None
    queue_ms: int | None = None
    route_index: int | None = None
    fallback: str | None = None
    prompt: str | None = None  # the prompt as sent (placeholders filled)
    input_size: tuple[int, int] | None = None  # the original's pixels, recorded with the job's end
    original: Path | bytes = b""  # the original on this machine, to decode (whichever store keeps it)
    scratch: Path | None = None  # the upload's spool file, deleted when the job ends
    degraded: ApiError | None = None  # why the original was returned instead of an edit
    row: asyncio.Task | None = None  # the insert of the pending row (started once; awaited again it re-raises)
    late: LateRun | None = None  # the AI routes under the slot's late limit (late delivery on)
    base: str = ""  # the public base URL of the job's links
    reservations: list[spend.Reservation] = field(default_factory=list)  # spend held against the caps
    budget_refused: bool = False  # a paid route was skipped: the spend cap is reached
    event: events.LiveEvent | None = None  # the event live for the slot when the photo arrived

    @property
    def continuing(self) -> bool:
        """The booth was (or is being) answered while the AI routes go on."""
        return self.late is not None and self.late.handed_off

    def cost(self) -> float | None:
        """The estimated cost of every attempt so far (US dollars), None when none has a price."""
        costs = [a.cost_usd for a in self.attempts if a.cost_usd is not None]
        return round(sum(costs), 6) if costs else None

    def end(self, ctx: AppContext, **outcome: object) -> JobEnd:
        """The job's end with what it gathered plus ``outcome`` (status, reason, result…); a job
        whose AI routes go on records them as continuing, their calls under way as ``in_flight``."""
        late = self.late if self.continuing else None
        return JobEnd(
            provider=self.provider,
            model=self.model,
            route_index=self.route_index,
            fallback=self.fallback,
            provider_ms=self.provider_ms,
            queue_ms=self.queue_ms,
            total_ms=int((ctx.clock.monotonic() - self.start) * 1000),
            cost_usd=self.cost(),
            client_fields=self.form.fields,
            prompt=self.prompt,
            input_size=self.input_size,
            attempts=[*self.attempts, *late.in_flight()] if late else list(self.attempts),
            late_deadline_at=late.deadline_at if late else None,
            spend=spend.settlements(self.reservations, self.attempts),
            late_lease_seconds=ctx.config.late_lease_seconds,
            **outcome,  # type: ignore[arg-type]
        )


async def run(ctx: AppContext, source: Source, base_url: str) -> IngestSuccess:
    """Process one photo from ``source`` end to end; ``base_url`` is the request's (for links when
    ``PUBLIC_BASE_URL`` is unset)."""
    slot, past = await _resolve(ctx, source)
    job = await _open_job(ctx, slot, source.origin, row=not isinstance(source, BoothUpload))
    job.base = urls.public_base(ctx.config.public_base_url, base_url)
    bound = log.bind(job_id=job.job_id, slot_id=slot.id, source=source.origin.source)
    try:
        await _obtain_original(ctx, job, source, past)
        slot = _with_prompts(job)
        try:
            routes = await routing.build_routes(ctx, slot, job.runtime.model_prices)
        except routing.InvalidRoute as exc:
            raise ApiError(502, "provider_error", f"slot configuration is invalid: {exc}") from exc
        check = _people_check(slot) and any(r.provider.name != "local" for r in routes)
        photo = await _check(ctx, job, routes[0].input_side, check)
        result = await _generate(ctx, job, slot, routes, photo)
        stored = await _deliver(ctx, job, result)
        try:  # the edited (billed) image goes to the guest whatever the database says
            await jobs.finish_or_keep(ctx.db, ctx.unwritten_ends, job.job_id, _done(ctx, job, stored))
        except Exception:  # not a database error: the row stays pending → interrupted by recovery
            bound.exception("ingest.bookkeeping_failed")
    except ApiError as error:
        await _record_failure(ctx, job, error)
        bound.info("ingest.failed", failure_reason=error.failure_reason, http_status=error.http_status,
                   detail=error.detail, attempts=len(job.attempts))  # fmt: skip
        raise
    except STORAGE_ERRORS as exc:  # the database failed mid-way (locked past its timeout, read-only, full)
        bound.exception("ingest.database_failed")
        error = ApiError.storage_unavailable("the database takes no writes")
        await _record_failure(ctx, job, error)
        raise error from exc
    except Exception as exc:
        bound.exception("ingest.crashed")
        error = ApiError(500, "internal_error", f"unexpected error: {type(exc).__name__}")
        await _record_failure(ctx, job, error)
        raise error from exc
    finally:
        if job.continuing:
            ctx.continuations.adopt(job.job_id, _continue(ctx, job))  # its booth's end is written
        elif job.scratch is not None:
            job.scratch.unlink(missing_ok=True)
    elapsed = ctx.clock.monotonic() - job.start
    INGEST_REQUESTS.labels(slot.id, "ok").inc()
    INGEST_SECONDS.labels("ok").observe(elapsed)
    bound.info("ingest.done", total_ms=int(elapsed * 1000), provider_ms=job.provider_ms, queue_ms=job.queue_ms,
               attempts=len(job.attempts), result_bytes=len(result.data))  # fmt: skip
    return IngestSuccess(
        job.job_id,
        result,
        urls.result_url(job.base, job.job_id),
        urls.take_home_url(job.base, job.job_id),
        job.fallback,
        job.continuing,
    )


async def _resolve(ctx: AppContext, source: Source) -> tuple[SlotView, Job | None]:
    """The slot the photo is for (with a test run's unsaved changes applied) and, for a rerun,
    the past job. 404 ``slot_not_found``, 422 ``invalid_settings``, 404/410 for a rerun."""
    past = None
    slot_id = source.job_id if isinstance(source, Rerun) else source.slot_id
    if isinstance(source, Rerun):
        past = await jobs.get(ctx.db, source.job_id) if JOB_ID.match(source.job_id) else None
        if past is None or past.input_path is None:
            raise ApiError(404, "job_not_found", "no job with a stored original")
        try:
            kept = past.media_purged_at is None and await ctx.store.stat(past.input_path) is not None
        except OSError as exc:
            raise ApiError.storage_unavailable() from exc
        if not kept:
            raise ApiError(410, "original_expired", "the original photo of this job has expired")
        slot_id = past.slot_id
    try:
        slot = await slots.get_slot(ctx.db, slot_id)
    except slots.SlotNotFound:
        INGEST_REQUESTS.labels("unknown", "slot_not_found").inc()  # URL text must not become a label
        raise ApiError(404, "slot_not_found", f"no slot {slot_id!r}; slots are slot-001 … slot-015") from None
    if isinstance(source, TestPhoto) and source.change is not None:
        known = {*await slots.booth_fields(ctx.db, slot.id), *source.fields}
        try:
            slot = slots.preview(slot, source.change, ctx.config.public_base_url, known)
        except InvalidSettings as exc:
            raise ApiError(422, "invalid_settings", str(exc), problem={"code": exc.code, **exc.params}) from exc
    return slot, past


async def _open_job(ctx: AppContext, slot: SlotView, origin: Origin, row: bool) -> JobInProgress:
    """The job; the deadline starts now. With ``row`` its ``pending`` row is inserted now, else
    (a booth upload) the moment its password checks out, beside the rest of the upload
    (:func:`_start_row`): a refused stranger costs no database write."""
    start, received_at = ctx.clock.monotonic(), utcnow()
    runtime, keys = await settings_service.load_with_keys(ctx.db, ctx.config)
    deadline = Deadline.after(runtime.sync_response_seconds, start, ctx.clock)
    job = JobInProgress(uuid.uuid4().hex, slot, origin, start, received_at, runtime, deadline, keys)
    if row:
        await _start_row(ctx, job)
    return job


def _start_row(ctx: AppContext, job: JobInProgress) -> asyncio.Task:
    """The task inserting the job's ``pending`` row, started on the first call; await it for the
    row (503 ``storage_unavailable`` when the database takes no write: locked past its busy
    timeout, read-only, full — re-raised to every later await, never tried twice)."""
    if job.row is None:
        job.row = asyncio.ensure_future(_insert_pending(ctx, job))
    return job.row


async def _insert_pending(ctx: AppContext, job: JobInProgress) -> None:
    origin, received_at = job.origin, job.received_at

    async def event_of(session) -> str | None:  # the event live for the slot now, read with the insert
        job.event = await events.live_for_slot(session, job.slot.id, received_at)
        return job.event.id if job.event else None

    try:
        await jobs.open_job(
            ctx.db,
            job_id=job.job_id,
            slot_id=job.slot.id,
            source=origin.source,
            received_at=received_at,
            deadline_at=received_at + timedelta(seconds=job.runtime.sync_response_seconds),
            client_ip=origin.client_ip,
            query_string=origin.query_string[:2000] or None,
            client_headers=origin.safe_headers(),
            event_of=event_of,
        )
    except DBAPIError as exc:
        log.exception("ingest.job_not_opened", slot_id=job.slot.id)
        raise ApiError.storage_unavailable("the database takes no writes") from exc


def _os_reason(exc: OSError) -> str:
    """The system's words for a file error ("No space left on device"), never its path."""
    return os.strerror(exc.errno or 5)  # 5: EIO when the error carries no number


async def _obtain_original(ctx: AppContext, job: JobInProgress, source: Source, past: Job | None) -> str:
    """Keep the original as ``originals/<job>.<ext>``, record it and set ``job.original``; returns
    its media path."""
    limit = job.slot.upload_limit_bytes or ctx.config.max_upload_bytes
    match source:
        case BoothUpload():
            if not job.slot.is_active:
                raise ApiError(403, "slot_disabled", f"{job.slot.id} is not active")
            booth.refuse_declared_size(source, limit)
            try:
                temp = job.scratch = ctx.store.temp_path()  # deleted when the job ends
                await booth.receive(
                    source,
                    job.form,
                    temp,
                    limit,
                    job.runtime.ingest_password,
                    clock=ctx.clock,
                    gate=ctx.unauthenticated_uploads,
                    guard=ctx.password_failures,
                    idle=ctx.config.upload_idle_seconds,
                    on_authenticated=lambda: _start_row(ctx, job),  # the row is written while the photo arrives
                )
                with temp.open("rb") as head:
                    kind = sniff_mime(head.read(16))
                path = f"originals/{job.job_id}{EXTENSION_BY_MIME.get(kind or '', '.bin')}"
                await _start_row(ctx, job)  # authenticated: the request is a job
                async with asyncio.timeout(max(1.0, job.deadline.remaining())):
                    job.original = await ctx.store.put_file(temp, path)
            except OSError as exc:  # disk full, read-only, folder gone: never a bare 500
                raise ApiError.storage_unavailable(f"the photo could not be stored ({_os_reason(exc)})") from exc
            await _record_original(ctx, job, path, kind or job.form.declared_mime)
            return path
        case TestPhoto():
            job.form.fields = {k: v[:2048] for k, v in list(source.fields.items())[:64]}
            if len(source.photo) > limit:
                raise ApiError(413, "payload_too_large", f"photo is over the {limit} byte limit")
            if not source.photo:
                raise ApiError(400, "invalid_request", "the test_image is empty")
            return await _keep(ctx, job, source.photo)
        case Rerun():
            assert past is not None and past.input_path is not None
            job.form.fields = {"rerun_of": past.id}
            try:
                data = await ctx.store.get(past.input_path)
            except OSError as exc:
                raise ApiError.storage_unavailable(f"the original could not be read ({_os_reason(exc)})") from exc
            return await _keep(ctx, job, data)


async def _keep(ctx: AppContext, job: JobInProgress, data: bytes) -> str:
    """Store an in-memory original (test runs, reruns) and record it."""
    kind = sniff_mime(data[:16])
    path = f"originals/{job.job_id}{EXTENSION_BY_MIME.get(kind or '', '.bin')}"
    try:
        await ctx.store.put(path, data)
    except OSError as exc:
        raise ApiError.storage_unavailable(f"the photo could not be stored ({_os_reason(exc)})") from exc
    job.original = data
    job.form.file_bytes, job.form.sha256 = len(data), hashlib.sha256(data).hexdigest()
    await _record_original(ctx, job, path, kind)
    return path


async def _record_original(ctx: AppContext, job: JobInProgress, path: str, mime: str | None) -> None:
    expires_at = job.received_at + timedelta(hours=job.runtime.result_ttl_hours)
    original = OriginalRecord(path, mime, job.form.file_bytes, job.form.sha256, job.form.fields, expires_at)
    try:
        await jobs.record_original(ctx.db, job.job_id, original)
    except DBAPIError:  # the photo is on disk and goes on; the guest is not made to wait for a row
        log.exception("ingest.original_not_recorded", job_id=job.job_id, path=path)


async def _on_images(ctx: AppContext, job: JobInProgress, fn, *args, deadline: Deadline | None = None):
    """``fn(*args)`` in the bounded image pool, its wait bounded by ``deadline`` (default the
    job's): 503 ``server_busy`` when too many photos already wait for a CPU, 504 when the deadline
    passes first (no decode starts for a photo nobody waits for). A photo of tens of megapixels
    takes a heavy turn (:meth:`photochanger.workers.WorkerPool.run`: one worker stays for small
    photos); late work runs in the background: only while no booth's photo waits for a worker."""
    if job.input_size is not None:
        heavy = job.input_size[0] * job.input_size[1] >= HEAVY_PIXELS
    else:
        original = job.original
        heavy = (len(original) if isinstance(original, bytes) else job.form.file_bytes or 0) >= HEAVY_BYTES
    until = (deadline or job.deadline).earlier(RESPONSE_MARGIN_SECONDS)
    try:
        # the wait for a worker ends with time left to send the answer (the router's margin)
        return await ctx.images.run(fn, *args, deadline=until, heavy=heavy, background=job.continuing)
    except PoolBusy as busy:
        headers = {"Retry-After": str(busy.retry_after)}
        raise ApiError(503, "server_busy", "too many photos wait for image work", headers=headers) from None
    except TimeoutError:
        detail = "the deadline passed while waiting for image work"
        raise ApiError(504, "server_busy", detail, status="timeout") from None


async def _check(ctx: AppContext, job: JobInProgress, side: int | None, faces_too: bool) -> PreparedPhoto:
    """Decode the original once, within the deadline and the image pool: check it, count its faces
    (people check) and make the primary route's copy (EXIF orientation, the model's size).
    415 ``unsupported_media_type``."""
    inspect = _faces_or_none if faces_too else None
    try:
        prepared = await _on_images(ctx, job, prepare, job.original, side, ctx.config.max_image_pixels, inspect)
    except UnsupportedImage as exc:
        raise ApiError(415, "unsupported_media_type", f"{exc}; send a JPEG, PNG or WebP photo") from exc
    job.input_size = (prepared.width, prepared.height)  # written with the job's end: one transaction fewer
    return prepared


def _faces_or_none(img) -> int | None:
    """Faces in a decoded image, or None when the detector fails (the check is then skipped,
    never the photo). Runs in the image pool."""
    try:
        return faces.count_image(img)
    except Exception:
        log.exception("people_check.failed")
        return None


async def _generate(
    ctx: AppContext, job: JobInProgress, slot: SlotView, routes: list[Route], prepared: PreparedPhoto
) -> EncodedImage:
    """The edited image (in the upload's MIME type) from the first route that makes one, after
    waiting for a place in the in-flight limits; with ``on_failure: original`` a failure of every
    route returns the booth's own photo instead (recorded as ``degraded``). With late delivery
    the AI routes may go on after the booth is answered (:func:`_run_or_hand_off`)."""
    primary = routes[0]
    limits = _limits(job, slot, primary)
    run = await _run_context(ctx, job, slot, routes, prepared)
    late = _late_run(job, slot, routes, limits)
    try:
        place = await ctx.admission.acquire(limits, job.job_id, job.deadline, primary.typical)
        try:
            job.queue_ms = int(place.queue_seconds * 1000)
            if late is None:
                outcome = await run_routes(routes, run)
            else:
                outcome = await _run_or_hand_off(ctx, job, routes, run, late)
        finally:  # a handed-off job's call under way keeps no place a booth waiting now needs
            await place.release()
    except LimitReached as exc:
        INGEST_REJECTED_IN_FLIGHT.labels(exc.scope).inc()
        raise ApiError(
            429,
            "rate_limited",
            f"too many photos in flight for this {exc.scope}; the wait would not fit the deadline",
            headers={"Retry-After": str(exc.retry_after)},
        ) from None
    except RunFailed as failed:
        job.provider_ms = sum(a.latency_ms for a in job.attempts)
        error = failure_answer(failed.failure)
        if job.budget_refused and not job.continuing:  # the cap: the guest still gets a photo
            job.fallback = "budget"
            job.degraded = ApiError(
                503, "budget_exhausted", "a spend cap (today's or the event's) is reached; the original was returned"
            )
        elif slot.on_failure != "original":
            raise error from None
        else:
            job.fallback, job.degraded = "original", error
        original = job.original  # the booth's own bytes: no decode, no loss
        data = original if isinstance(original, bytes) else await asyncio.to_thread(original.read_bytes)
        return EncodedImage(data, prepared.mime, prepared.width, prepared.height)
    _made_by(job, outcome)
    return outcome.output


def _limits(job: JobInProgress, slot: SlotView, primary: Route) -> dict[str, int]:
    """The in-flight limits a photo of ``slot`` counts against (scope → places)."""
    return {
        f"slot:{slot.id}": slot.max_in_flight or job.runtime.slot_max_in_flight,
        f"provider:{primary.provider.name}": job.runtime.provider_max_in_flight,
    }


def _made_by(job: JobInProgress, outcome: RunOutcome) -> None:
    """Record on ``job`` the route that made its image."""
    job.provider_ms = outcome.provider_ms
    job.provider, job.route_index = outcome.route.provider.name, outcome.route.index
    job.model = outcome.image.model or outcome.route.model
    job.fallback = "budget" if job.budget_refused else "route" if outcome.route.index else None
    job.prompt = outcome.route.prompt


async def _run_context(
    ctx: AppContext, job: JobInProgress, slot: SlotView, routes: list[Route], prepared: PreparedPhoto
) -> RunContext:
    """What the router needs for ``job``: the photo at the primary route's size (others made on
    demand), the slot's templates, how an answer is checked (decoded, converted to the upload's
    MIME type, its people counted) and where attempts are recorded (``job.attempts``). Image work
    of a late run waits under the late deadline. 503 ``storage_unavailable`` when the templates
    cannot be read."""
    job.prompt = slot.prompt
    primary = routes[0]
    answer_mime, photo = prepared.mime, prepared.copy
    copies = {primary.input_side: InputImage(photo.data, photo.mime)}
    job.provider, job.model = primary.provider.name, primary.model
    expected = prepared.inspected if isinstance(prepared.inspected, int) else None  # faces in the photo
    max_pixels = ctx.config.max_image_pixels

    def until() -> Deadline:
        return job.late.deadline if job.late is not None else job.deadline

    async def finish(route: Route, image: ProviderImage) -> Finished:  # inside the attempt: a bad answer fails it
        counting = expected is not None and route.provider.name != "local"  # local keeps the people by construction
        checked = await _on_images(ctx, job, check_answer, image.data, answer_mime, max_pixels,
                                   _faces_or_none if counting else None, deadline=until())  # fmt: skip
        converted, found = checked.image, checked.inspected
        if not counting:
            return Finished(converted)
        if found is not None and expected is not None and _people_lost(expected, found, slot.people_tolerance):
            counts = {"faces_expected": expected, "faces_found": found}
            detail = f"the photo shows {expected} face(s), the answer {found}"
            raise ProviderFailure(FailureKind.PEOPLE_LOST, "people_lost", detail, extra=counts)
        return Finished(converted, expected, found)

    async def photo_for(route: Route) -> InputImage:
        """The photo copy at ``route``'s size (a fallback that works from another size)."""
        if route.input_side not in copies:
            other = await _on_images(ctx, job, prepare, job.original, route.input_side, max_pixels, deadline=until())
            copies[route.input_side] = InputImage(other.copy.data, other.copy.mime)
        return copies[route.input_side]

    try:  # read before the wait for a place: a template deleted meanwhile does not fail this photo
        templates = [
            InputImage(data, row.mime, row.role)
            for row, data in await slots.load_templates(ctx.store, slot, ctx.templates)
        ]
    except OSError as exc:
        raise ApiError.storage_unavailable(f"the slot's templates could not be read ({_os_reason(exc)})") from exc
    expires = job.received_at + timedelta(seconds=job.runtime.sync_response_seconds)
    return RunContext(
        photo=copies[primary.input_side],
        photo_for=photo_for,
        templates=templates,
        deadline=job.deadline,
        health=ctx.health,
        keyring=ctx.keyring,
        keys=job.keys,
        finish=finish,
        publish=media.publisher(ctx.db, ctx.store, ctx.config.public_base_url, expires),
        on_success=lambda route, seconds, cost: ctx.latency.observe(route.key, seconds, cost),
        on_start=lambda route, started_at: _reserve_spend(ctx, job, route, started_at),
        on_record=job.attempts.append,
        prices=job.runtime.model_prices,
    )


async def _reserve_spend(ctx: AppContext, job: JobInProgress, route: Route, started_at: datetime) -> None:
    """Before a paid attempt: reserve its expected cost against today's spend cap, the slot's daily
    cap and the job's event's cap, all or none (and warn the owner once past each soft threshold); at a cap the
    attempt is never sent (:data:`~photochanger.providers.base.FailureKind.BUDGET_EXHAUSTED`:
    the router moves on)."""
    if route.cost is None:
        return
    caps = []
    if job.runtime.daily_spend_cap_usd is not None:
        caps.append((spend.day_scope(started_at), job.runtime.daily_spend_cap_usd))
    if job.slot.daily_spend_cap_usd is not None:
        caps.append((spend.slot_scope(job.slot.id, started_at), job.slot.daily_spend_cap_usd))
    if job.event is not None and job.event.spend_cap_usd is not None:
        caps.append((spend.event_scope(job.event.id), job.event.spend_cap_usd))
    if not caps:
        return
    percent = job.runtime.spend_warning_percent
    refused, warn_now = await spend.reserve_all(ctx.db, caps, route.cost, percent)
    for scope, cap in warn_now:
        await spend.warn(job.runtime.alert_webhook_url, scope, cap, percent, ctx.background)
    if refused is not None:
        job.budget_refused = True
        what = {"event": "the event's", "slot": "the slot's daily"}.get(refused[0].split(":", 1)[0], "today's")
        detail = f"{what} spend cap (${refused[1]:g}) leaves no room for this route (${route.cost:.4f})"
        raise ProviderFailure(FailureKind.BUDGET_EXHAUSTED, "budget_exhausted", detail)
    for scope, _cap in caps:
        job.reservations.append(spend.Reservation(scope, route.cost, (route.index, started_at), route.key))


def _late_run(job: JobInProgress, slot: SlotView, routes: list[Route], limits: dict[str, int]) -> LateRun | None:
    """The late run of ``job`` when its slot has late delivery and an AI primary route, else None."""
    if slot.late_delivery_minutes <= 0 or routes[0].provider.name == "local":
        return None
    seconds = max(slot.late_delivery_minutes * 60.0, job.runtime.sync_response_seconds)
    deadline = Deadline.after(seconds, job.start, job.deadline.clock)
    return LateRun(deadline, job.received_at + timedelta(seconds=seconds), limits)


def _late_hooks(ctx: AppContext, job: JobInProgress, run: RunContext, durable: bool) -> RunContext:
    """``run`` under the late deadline, its attempts tracked while under way (``durable``: also
    written down before each provider call, for a job no booth waits for any more). A call that
    starts once the booth was answered first waits for a place in the in-flight limits behind
    every booth (:data:`~photochanger.routing.admission.LATE`)."""
    late = job.late
    assert late is not None

    async def on_start(route: Route, started_at: datetime) -> None:
        key = (route.index, started_at)
        await _reserve_spend(ctx, job, route, started_at)
        if late.handed_off and late.limits:
            try:
                late.places[key] = await ctx.admission.acquire(
                    late.limits, job.job_id, late.deadline, route.typical, priority=LATE
                )
            except LimitReached as exc:
                detail = "the in-flight limits stay full of booths; tried again later"
                raise ProviderFailure(FailureKind.RATE_LIMITED, "late_queue_full", detail, exc.retry_after) from None
        record = AttemptRecord(
            route_index=route.index,
            route_key=route.key,
            provider=route.provider.name,
            model=route.model,
            outcome="in_flight",
            started_at=started_at,
            latency_ms=0,
        )
        late.started[key] = record
        if durable:
            number = len(job.attempts) + len(late.started)
            await jobs.record_in_flight(ctx.db, job.job_id, number, record)

    def on_record(record: AttemptRecord) -> None:
        late.ended((record.route_index, record.started_at))
        job.attempts.append(record)

    expires = late.deadline_at
    return replace(
        run,
        deadline=late.deadline,
        on_start=on_start,
        on_record=on_record,
        publish=media.publisher(ctx.db, ctx.store, ctx.config.public_base_url, expires),
    )


async def _run_or_hand_off(
    ctx: AppContext, job: JobInProgress, routes: list[Route], run: RunContext, late: LateRun
) -> RunOutcome:
    """Late delivery: the AI routes run under the late deadline while the booth waits for them
    until its own deadline (less the time its ``local`` routes need). An answer in time is the
    booth's; otherwise the job is handed off (:attr:`LateRun.handed_off`: the run goes on, for
    the take-home page) and the booth gets the ``local`` look, or :class:`RunFailed` (``deadline``:
    the original with ``on_failure: original``, else the 504)."""
    job.late = late
    ai = [r for r in routes if r.provider.name != "local"]
    tail = [r for r in routes if r.provider.name == "local"]
    keep = RESPONSE_MARGIN_SECONDS + (min(r.typical for r in tail) + RETRY_HEADROOM_SECONDS if tail else 0.0)
    task = late.task = asyncio.ensure_future(run_routes(ai, _late_hooks(ctx, job, run, durable=False)))
    try:
        await asyncio.wait({task}, timeout=max(0.0, job.deadline.remaining() - keep))
    except asyncio.CancelledError:  # the request itself ended: nothing is handed off
        task.cancel()
        raise
    if task.done():
        job.late = None  # the AI routes ended in time: nothing goes on
        try:
            return task.result()
        except RunFailed:
            if not tail or job.deadline.remaining() < tail[0].typical + RESPONSE_MARGIN_SECONDS:
                raise
            return await run_routes(tail, run)
    late.handed_off = True  # from now on each new call waits for its own place, behind every booth
    LATE_JOBS.labels("handed_off").inc()
    log.info("ingest.late_handoff", job_id=job.job_id, late_until=late.deadline_at.isoformat())
    if tail:
        return await run_routes(tail, run)
    failure = ProviderFailure(
        FailureKind.TIMEOUT, "deadline", "no AI answer before the booth's deadline; it goes on for the take-home page"
    )
    raise RunFailed(failure, list(job.attempts))


async def _continue(ctx: AppContext, job: JobInProgress) -> None:
    """Finish a handed-off job: wait for its late run, keep the AI photo as its result (the
    take-home page shows it), and write how it ended; cancelled (an admin, or the process
    stopping), the run stops and the row stays as it is for :func:`resume_late`."""
    late = job.late
    assert late is not None and late.task is not None
    bound = log.bind(job_id=job.job_id, slot_id=job.slot.id)
    try:
        try:
            outcome = await late.task
        except RunFailed as failed:
            end = LateEnd("failed", job.attempts, failure_answer(failed.failure).failure_reason)
        except ApiError as exc:
            end = LateEnd("failed", job.attempts, exc.failure_reason)
        else:
            end = await _late_result(ctx, job, outcome)
        status = "done" if end.state == "delivered" else "failed"
        hook = _photo_webhook(job, "photo.late_result", status, None, end.failure_reason, end.result is not None)
        end = replace(end, webhook=hook, spend=spend.settlements(job.reservations, job.attempts))
        if await _write_late(ctx, job, end):
            LATE_JOBS.labels(end.state).inc()
            bound.info("ingest.late_" + end.state, reason=end.failure_reason, attempts=len(job.attempts))
    except asyncio.CancelledError:
        late.task.cancel()
        with contextlib.suppress(BaseException):
            await late.task
        raise
    except Exception:
        bound.exception("ingest.late_crashed")
    finally:
        await late.release_all()
        if job.scratch is not None:
            job.scratch.unlink(missing_ok=True)


async def _late_result(ctx: AppContext, job: JobInProgress, outcome: RunOutcome) -> LateEnd:
    """Keep a late AI photo as ``results/<job>-late.<ext>``; the end that records it."""
    image: EncodedImage = outcome.output
    path = f"results/{job.job_id}-late{EXTENSION_BY_MIME[image.mime]}"
    try:
        await ctx.store.put(path, image.data)
    except OSError as exc:
        log.error("ingest.late_result_not_stored", job_id=job.job_id, error=_os_reason(exc))
        return LateEnd("failed", job.attempts, "storage_unavailable")
    return LateEnd(
        "delivered",
        job.attempts,
        result=ResultRecord(path, image.mime, len(image.data), image.width, image.height),
        provider=outcome.route.provider.name,
        model=outcome.image.model or outcome.route.model,
        route_index=outcome.route.index,
        prompt=outcome.route.prompt,
        provider_ms=outcome.provider_ms,
        cost_usd=job.cost(),
    )


async def _write_late(ctx: AppContext, job: JobInProgress, end: LateEnd) -> bool:
    """Write a late end, again while the database refuses it or the booth's own end is not yet
    written (kept in memory meanwhile); False when the job is no longer this process's."""
    for _ in range(LATE_WRITE_TRIES):
        try:
            if await jobs.finish_late(ctx.db, job.job_id, end):
                return True
        except STORAGE_ERRORS:
            pass  # the database is away: again in a moment
        else:
            if job.job_id not in ctx.unwritten_ends:
                return False  # cancelled, or another process took it over
        await asyncio.sleep(LATE_WRITE_PAUSE)
    log.error("ingest.late_end_lost", job_id=job.job_id, state=end.state)
    return False


async def resume_late(ctx: AppContext, row: Job) -> None:
    """Go on with a continuing job whose process died or stopped (claimed by this one): the same
    AI routes under what is left of its late deadline, each attempt written down before its call
    (the one cut off is ``interrupted``), then as :func:`_continue`. Never raises."""
    bound = log.bind(job_id=row.id, slot_id=row.slot_id)
    try:
        job = await _resumed_job(ctx, row)
        if job is None:
            return
        slot = _with_prompts(job)
        routes = [
            r for r in await routing.build_routes(ctx, slot, job.runtime.model_prices) if r.provider.name != "local"
        ]
        if not routes:
            await _write_late(ctx, job, LateEnd("failed", job.attempts, "provider_error"))
            return
        job.late.limits = _limits(job, slot, routes[0])  # type: ignore[union-attr]
        check = _people_check(slot)
        prepared = await _check(ctx, job, routes[0].input_side, check)
        run = _late_hooks(ctx, job, await _run_context(ctx, job, slot, routes, prepared), durable=True)
        bound.info("ingest.late_resumed", attempts=len(job.attempts))
        LATE_JOBS.labels("resumed").inc()
        job.late.task = asyncio.ensure_future(run_routes(routes, run))  # type: ignore[union-attr]
        await _continue(ctx, job)
    except asyncio.CancelledError:
        raise
    except (ApiError, routing.InvalidRoute, slots.SlotNotFound, OSError, *STORAGE_ERRORS) as exc:
        bound.warning("ingest.late_resume_failed", error=f"{type(exc).__name__}: {exc}"[:300])
        with contextlib.suppress(Exception):
            reason = exc.failure_reason if isinstance(exc, ApiError) else "storage_unavailable"
            attempts = await jobs.resume_attempts(ctx.db, row.id)
            await jobs.finish_late(ctx.db, row.id, LateEnd("failed", attempts, reason))
    except Exception:
        bound.exception("ingest.late_crashed")


async def _resumed_job(ctx: AppContext, row: Job) -> JobInProgress | None:
    """The job of a claimed continuing ``row`` with what is left of its late deadline, its
    attempts and original; None (and its late work ended as ``late_expired``) when no time is left."""
    attempts = await jobs.resume_attempts(ctx.db, row.id)
    assert row.late_deadline_at is not None
    remaining = (row.late_deadline_at - utcnow()).total_seconds()
    slot = await slots.get_slot(ctx.db, row.slot_id)
    if remaining <= RESPONSE_MARGIN_SECONDS or row.input_path is None:
        await jobs.finish_late(ctx.db, row.id, LateEnd("failed", attempts, "late_expired"))
        return None
    runtime, keys = await settings_service.load_with_keys(ctx.db, ctx.config)
    start = ctx.clock.monotonic()
    deadline = Deadline.after(remaining, start, ctx.clock)
    origin = Origin(row.source, row.client_ip, row.query_string or "")
    job = JobInProgress(row.id, slot, origin, start, row.received_at, runtime, deadline, keys)
    job.form.fields = dict(row.client_fields or {})
    host = (row.client_headers or {}).get("host")
    job.base = urls.public_base(ctx.config.public_base_url, f"http://{host}" if host else "")
    job.attempts = attempts
    job.event = await events.of_job(ctx.db, row.event_id)
    job.late = LateRun(deadline, row.late_deadline_at, handed_off=True)
    job.original = await ctx.store.get(row.input_path)
    return job


def _with_prompts(job: JobInProgress) -> SlotView:
    """The job's slot with its prompts (and each fallback's) filled from the booth's fields and
    the URL's query parameters (:mod:`photochanger.prompts`)."""
    slot = job.slot
    query = {k: v[0] for k, v in parse_qs(job.origin.query_string).items()}
    fields = job.form.fields
    prompt = render(slot.prompt, fields, query)
    fallbacks = [
        f.model_copy(update={"prompt": render(f.prompt, fields, query)}) if f.prompt else f for f in slot.fallbacks
    ]
    return slot.model_copy(update={"prompt": prompt, "fallbacks": fallbacks})


def _people_check(slot: SlotView) -> bool:
    """Whether answers of this slot's AI routes are checked for lost people."""
    return slot.people_check == "on" or (slot.people_check == "auto" and faces.available())


def _people_lost(expected: int, found: int, tolerance: int) -> bool:
    """An answer lost the people: none left of some, or a count off by more than ``tolerance``."""
    if expected == 0:
        return False  # nobody to lose (a landscape, a product shot)
    return found == 0 or abs(found - expected) > tolerance


async def _deliver(ctx: AppContext, job: JobInProgress, result: EncodedImage) -> ResultRecord | None:
    """Store the result as ``results/<job>.<ext>`` (atomically). When the media disk refuses it
    (full, read-only) the guest still gets the image: None, logged, no download link later."""
    path = f"results/{job.job_id}{EXTENSION_BY_MIME[result.mime]}"
    try:
        # the guest's image is ready: a slow store delays it RESULT_WRITE_SECONDS at most, never past the deadline
        async with asyncio.timeout(max(1.0, min(RESULT_WRITE_SECONDS, job.deadline.remaining()))):
            await ctx.store.put(path, result.data)
    except OSError as exc:  # TimeoutError included
        log.error("ingest.result_not_stored", job_id=job.job_id, error=_os_reason(exc))
        return None
    return ResultRecord(path, result.mime, len(result.data), result.width, result.height)


def _done(ctx: AppContext, job: JobInProgress, stored: ResultRecord | None) -> JobEnd:
    degraded = job.degraded
    reason = degraded.failure_reason if degraded else None
    return job.end(
        ctx,
        status="done",
        http_status=200,
        failure_reason=reason,
        failure_detail=degraded.detail if degraded else None,
        result=stored,
        webhook=_photo_webhook(job, "photo.finished", "done", 200, reason, stored is not None),
    )


def _photo_webhook(
    job: JobInProgress, event: str, status: str, http_status: int | None, reason: str | None, has_result: bool
) -> dict | None:
    """The photo webhook's delivery row of a booth photo's ``event`` (None without a webhook URL,
    or for a test run): who, what the booth got, the links (the result's when there is one) and
    the booth's fields and query values."""
    url = (job.event.webhook_url if job.event else None) or job.runtime.photo_webhook_url
    if not url or job.origin.source != "ingest":
        return None
    payload = {
        "job_id": job.job_id,
        "event_id": job.event.id if job.event else None,
        "event_name": job.event.name if job.event else None,
        "slot_id": job.slot.id,
        "slot_name": job.slot.display_name,
        "status": status,
        "http_status": http_status,
        "failure_reason": reason,
        "fallback": job.fallback,
        "late": "continuing" if job.continuing and event == "photo.finished" else None,
        "received_at": job.received_at.isoformat(),
        "result_url": urls.result_url(job.base, job.job_id) if has_result else None,
        "take_home_url": urls.take_home_url(job.base, job.job_id),
        "fields": job.form.fields,
        "query": {k: v[0] for k, v in parse_qs(job.origin.query_string).items()},
    }
    return webhooks.delivery_row(event, url, payload, utcnow(), job.job_id)


async def _record_failure(ctx: AppContext, job: JobInProgress, error: ApiError) -> None:
    """Finish the job's row as failed (opening it first for an authenticated booth upload that
    failed before its row was written); a request refused before its password checked out is
    counted in memory only (:class:`photochanger.throttle.service.RefusalLog`), with no job id."""
    INGEST_REQUESTS.labels(job.slot.id, error.failure_reason).inc()
    INGEST_SECONDS.labels(error.failure_reason).observe(ctx.clock.monotonic() - job.start)
    if job.row is None and not job.form.authenticated:
        ctx.refusals.add(job.origin.client_ip or "unknown", error.failure_reason, error.http_status, job.slot.id)
        return
    try:
        await _start_row(ctx, job)
    except ApiError:
        return  # the database takes no write: the booth still gets its clean error
    error.job_id = job.job_id
    status = "timeout" if error.status == "timeout" else "failed"
    end = job.end(
        ctx,
        status=status,
        http_status=error.http_status,
        failure_reason=error.failure_reason,
        failure_detail=error.detail,
        webhook=_photo_webhook(job, "photo.finished", status, error.http_status, error.failure_reason, False),
    )
    try:  # the booth still gets its clean error; a refused write is kept and written later
        await jobs.finish_or_keep(ctx.db, ctx.unwritten_ends, job.job_id, end)
    except Exception:  # not a database error: recovery marks the row interrupted
        log.exception("ingest.bookkeeping_failed", job_id=job.job_id)
