"""The ingest pipeline: booth upload → checks → provider under the deadline → edited image.

Order of checks (each a stable ``failure_reason``): slot exists (404 ``slot_not_found``) and is
active (403 ``slot_disabled``); declared ``Content-Length`` over the limit (413, answered before
the body is read, so a huge upload never leaves the booth); password (401 ``invalid_password``);
required fields (400 ``invalid_request``); size while streaming (413 ``payload_too_large``); type
by magic bytes and a real decode (415 ``unsupported_media_type``); in-flight limits (429
``rate_limited``). Every request that reaches a slot is a job row; after authentication the
original photo is kept until the media TTL whatever happens next.
"""

import asyncio
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from starlette.requests import ClientDisconnect

from photochanger.context import AppContext
from photochanger.db import utcnow
from photochanger.deadline import Deadline
from photochanger.errors import ApiError
from photochanger.ingest.failures import failure_answer
from photochanger.ingest.multipart import FormError, PasswordRejected, ReceivedForm, UploadTooLarge, read_form
from photochanger.jobs import service as jobs
from photochanger.jobs.schemas import JOB_ID
from photochanger.media import service as media
from photochanger.media.images import (
    EXTENSION_BY_MIME,
    EncodedImage,
    UnsupportedImage,
    check_and_normalise,
    convert,
    sniff_mime,
)
from photochanger.metrics import INGEST_REJECTED_IN_FLIGHT, INGEST_REQUESTS, INGEST_SECONDS
from photochanger.providers.base import InputImage, ProviderImage
from photochanger.providers.registry import InvalidSettings
from photochanger.routing import service as routing
from photochanger.routing.admission import LimitReached
from photochanger.routing.router import AttemptRecord, RunContext, RunFailed, run_routes
from photochanger.settings import service as settings_service
from photochanger.settings.schemas import RuntimeSettings
from photochanger.slots import service as slots
from photochanger.slots.schemas import SlotUpdate, SlotView

log = structlog.get_logger("photochanger.ingest")

SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key", "x-goog-api-key"})
FORM_OVERHEAD_BYTES = 64 * 1024  # allowance for the text fields around the photo


@dataclass(frozen=True)
class IngestRequest:
    """An upload as the route received it; ``body`` yields the raw bytes as they arrive."""

    slot_id: str
    content_type: str
    content_length: int | None
    body: AsyncIterator[bytes]
    client_ip: str | None
    query_string: str
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    source: str = "ingest"


@dataclass(frozen=True)
class _Origin:
    """Where a job came from, as recorded on it (headers without secrets, values capped)."""

    source: str
    client_ip: str | None
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def safe_headers(self) -> dict[str, str] | None:
        if not self.headers:
            return None
        return {k: v[:300] for k, v in list(self.headers.items())[:40] if k.lower() not in SECRET_HEADERS}


@dataclass(frozen=True)
class IngestSuccess:
    """The edited image for the booth, and where it can be downloaded later."""

    job_id: str
    image: EncodedImage
    result_url: str
    fallback: str | None = None  # "route" or "original" when the primary route did not make it


@dataclass
class _Progress:
    """What a job has gathered so far; written to its row when it finishes, however it ends."""

    job_id: str
    slot_id: str
    start: float
    received_at: datetime
    runtime: RuntimeSettings
    deadline: Deadline
    form: ReceivedForm = field(default_factory=ReceivedForm)
    attempts: list[AttemptRecord] = field(default_factory=list)
    provider: str | None = None
    model: str | None = None
    provider_ms: int | None = None
    queue_ms: int | None = None
    route_index: int | None = None
    fallback: str | None = None  # "route" (a fallback route made it) or "original" (photo returned)
    degraded: ApiError | None = None  # why the original was returned

    def final_fields(self) -> dict:
        costs = [a.cost_usd for a in self.attempts if a.cost_usd is not None]
        return {
            "client_fields": self.form.fields,
            "provider": self.provider,
            "model": self.model,
            "provider_ms": self.provider_ms,
            "queue_ms": self.queue_ms,
            "route_index": self.route_index,
            "fallback": self.fallback,
            "cost_usd": round(sum(costs), 6) if costs else None,
            "total_ms": int((self.deadline.clock.monotonic() - self.start) * 1000),
        }


class IngestService:
    """Runs one job end to end (booth ingest, admin test run, rerun). Raises :class:`ApiError` for
    every answer but success."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def ingest(self, request: IngestRequest) -> IngestSuccess:
        """Process a booth upload; see the module docstring for the order of checks."""
        slot = await self._slot(request.slot_id)

        async def obtain(progress: _Progress) -> str:
            if not slot.is_active:
                raise ApiError(403, "slot_disabled", f"{slot.id} is not active")
            return await self._store_original(request, slot, progress)

        origin = _Origin(request.source, request.client_ip, request.query_string, request.headers)
        return await self._run(slot, origin, obtain, request.base_url)

    async def test_run(
        self, slot_id: str, change: SlotUpdate | None, photo: bytes, base_url: str, client_ip: str | None
    ) -> IngestSuccess:
        """Run the pipeline on ``photo`` with the slot's configuration plus the unsaved ``change``
        (validated like a save: 422 ``invalid_settings``). Works on inactive slots; source ``ui_test``."""
        slot = await self._slot(slot_id)
        if change is not None:
            try:
                slot = slots.preview(slot, change, self.ctx.config.public_base_url)
            except InvalidSettings as exc:
                raise ApiError(422, "invalid_settings", str(exc)) from exc

        async def obtain(progress: _Progress) -> str:
            limit = slot.upload_limit_bytes or self.ctx.config.max_upload_bytes
            if len(photo) > limit:
                raise ApiError(413, "payload_too_large", f"photo is over the {limit} byte limit")
            if not photo:
                raise ApiError(400, "invalid_request", "the test_image is empty")
            return await self._keep_bytes(progress, photo)

        return await self._run(slot, _Origin("ui_test", client_ip), obtain, base_url)

    async def rerun(self, job_id: str, base_url: str, client_ip: str | None) -> IngestSuccess:
        """Run a past job's stored original again with its slot's current configuration."""
        past = await jobs.get(self.ctx.db, job_id) if JOB_ID.match(job_id) else None
        if past is None or past.input_path is None:
            raise ApiError(404, "job_not_found", "no job with a stored original")
        if past.media_purged_at is not None or not self.ctx.store.path(past.input_path).is_file():
            raise ApiError(410, "original_expired", "the original photo of this job has expired")
        slot = await self._slot(past.slot_id)

        async def obtain(progress: _Progress) -> str:
            progress.form.fields = {"rerun_of": past.id}
            return await self._keep_bytes(progress, await asyncio.to_thread(self.ctx.store.read, past.input_path))

        return await self._run(slot, _Origin("rerun", client_ip), obtain, base_url)

    async def _slot(self, slot_id: str) -> SlotView:
        try:
            return await slots.get_slot(self.ctx.db, slot_id)
        except slots.SlotNotFound:
            INGEST_REQUESTS.labels("unknown", "slot_not_found").inc()  # URL text must not become a label
            raise ApiError(404, "slot_not_found", f"no slot {slot_id!r}; slots are slot-001 … slot-015") from None

    async def _run(
        self, slot: SlotView, origin: "_Origin", obtain: Callable[[_Progress], Awaitable[str]], base_url: str
    ) -> IngestSuccess:
        """Open the job, ``obtain`` the original (returns its media path), process, record the end."""
        clock = self.ctx.clock
        start, received_at = clock.monotonic(), utcnow()
        runtime = await settings_service.load(self.ctx.db)
        deadline = Deadline.after(runtime.sync_response_seconds, start, clock)
        progress = _Progress(uuid.uuid4().hex, slot.id, start, received_at, runtime, deadline)
        await jobs.open_job(
            self.ctx.db,
            job_id=progress.job_id,
            slot_id=slot.id,
            source=origin.source,
            received_at=received_at,
            deadline_at=received_at + timedelta(seconds=runtime.sync_response_seconds),
            client_ip=origin.client_ip,
            query_string=origin.query_string[:2000] or None,
            client_headers=origin.safe_headers(),
        )
        bound = log.bind(job_id=progress.job_id, slot_id=slot.id, source=origin.source)
        try:
            success = await self._process(slot, progress, await obtain(progress), base_url)
        except ApiError as error:
            error.job_id = progress.job_id
            await self._finish_failed(progress, error)
            bound.info(
                "ingest.failed",
                failure_reason=error.failure_reason,
                http_status=error.http_status,
                detail=error.detail,
                attempts=len(progress.attempts),
            )
            raise
        except Exception as exc:
            bound.exception("ingest.crashed")
            error = ApiError(500, "internal_error", f"unexpected error: {type(exc).__name__}", job_id=progress.job_id)
            await self._finish_failed(progress, error)
            raise error from exc
        elapsed = clock.monotonic() - start
        INGEST_REQUESTS.labels(slot.id, "ok").inc()
        INGEST_SECONDS.labels("ok").observe(elapsed)
        bound.info(
            "ingest.done",
            total_ms=int(elapsed * 1000),
            provider_ms=progress.provider_ms,
            attempts=len(progress.attempts),
            result_bytes=len(success.image.data),
        )
        return success

    async def _keep_bytes(self, progress: _Progress, data: bytes) -> str:
        """Store an in-memory original (test runs, reruns) and record it on the job."""
        kind = sniff_mime(data[:16])
        input_path = f"originals/{progress.job_id}{EXTENSION_BY_MIME.get(kind, '.bin')}"
        await asyncio.to_thread(self.ctx.store.write, input_path, data)
        progress.form.file_bytes, progress.form.sha256 = len(data), hashlib.sha256(data).hexdigest()
        await self._record_original(progress, input_path, kind)
        return input_path

    async def _record_original(self, progress: _Progress, input_path: str, kind: str | None) -> None:
        form = progress.form
        await jobs.update(
            self.ctx.db,
            progress.job_id,
            client_fields=form.fields,
            input_path=input_path,
            input_bytes=form.file_bytes,
            input_sha256=form.sha256,
            input_mime=kind or form.declared_mime,
            result_expires_at=progress.received_at + timedelta(hours=progress.runtime.result_ttl_hours),
        )

    async def _process(self, slot: SlotView, progress: _Progress, input_path: str, base_url: str) -> IngestSuccess:
        config, store = self.ctx.config, self.ctx.store
        try:
            checked = await asyncio.to_thread(
                check_and_normalise, store.path(input_path), config.provider_image_max_side
            )
        except UnsupportedImage as exc:
            raise ApiError(415, "unsupported_media_type", f"{exc}; send a JPEG, PNG or WebP photo") from exc
        await jobs.update(self.ctx.db, progress.job_id, input_width=checked.width, input_height=checked.height)
        result = await self._generate(slot, progress, checked.normalised, checked.mime)
        result_path = f"results/{progress.job_id}{EXTENSION_BY_MIME[result.mime]}"
        await asyncio.to_thread(store.write, result_path, result.data)
        degraded = progress.degraded
        await jobs.finish(
            self.ctx.db,
            progress.job_id,
            progress.attempts,
            status="done",
            http_status=200,
            failure_reason=degraded.failure_reason if degraded else None,
            failure_detail=degraded.detail if degraded else None,
            **progress.final_fields(),
            result_path=result_path,
            result_mime=result.mime,
            result_bytes=len(result.data),
            result_width=result.width,
            result_height=result.height,
        )
        base = (config.public_base_url or base_url).rstrip("/")
        return IngestSuccess(progress.job_id, result, f"{base}/public/results/{progress.job_id}", progress.fallback)

    async def _store_original(self, request: IngestRequest, slot: SlotView, progress: _Progress) -> str:
        """Receive the upload and keep it as ``originals/<job>.<ext>``; returns that path."""
        limit = slot.upload_limit_bytes or self.ctx.config.max_upload_bytes
        if request.content_length is not None and request.content_length > limit + FORM_OVERHEAD_BYTES:
            detail = f"upload of {request.content_length} bytes is over the {limit} byte limit"
            raise ApiError(413, "payload_too_large", detail)
        form, temp = progress.form, self.ctx.store.temp_path()
        try:
            await self._receive(request, form, temp, limit, progress.runtime.ingest_password.encode())
            kind = sniff_mime(temp.open("rb").read(16))
            input_path = f"originals/{progress.job_id}{EXTENSION_BY_MIME.get(kind, '.bin')}"
            await asyncio.to_thread(self.ctx.store.commit, temp, input_path)
        finally:
            temp.unlink(missing_ok=True)
        await self._record_original(progress, input_path, kind)
        return input_path

    async def _receive(
        self, request: IngestRequest, form: ReceivedForm, temp: Path, limit: int, expected: bytes
    ) -> None:
        def check_password(value: str) -> bool:
            return hmac.compare_digest(value.encode(), expected)

        try:
            await read_form(form, request.body, request.content_type, temp, limit, check_password)
        except PasswordRejected:
            await _drain(request.body, limit + FORM_OVERHEAD_BYTES)
            raise ApiError(401, "invalid_password", "wrong ingest password") from None
        except UploadTooLarge:
            raise ApiError(413, "payload_too_large", f"photo is over the {limit} byte limit") from None
        except FormError as exc:
            raise ApiError(400, "invalid_request", str(exc)) from None
        except ClientDisconnect:
            raise ApiError(400, "client_disconnected", "the client went away during the upload") from None
        if form.password is None:
            raise ApiError(401, "invalid_password", "the password field is missing")
        if form.file_field is None:
            raise ApiError(400, "invalid_request", "the photo field fileToUpload (or file) is missing")
        if form.file_bytes == 0:
            raise ApiError(400, "invalid_request", f"the {form.file_field} field is empty")

    async def _generate(
        self, slot: SlotView, progress: _Progress, photo: EncodedImage, answer_mime: str
    ) -> EncodedImage:
        """The edited image (in ``answer_mime``) from the first route that makes one; with
        ``on_failure: original`` a failure of every route returns ``photo`` instead (recorded)."""
        ctx = self.ctx
        try:
            routes = await routing.build_routes(ctx, slot)
        except routing.InvalidRoute as exc:
            raise ApiError(502, "provider_error", f"slot configuration is invalid: {exc}") from exc
        primary = routes[0]
        progress.provider, progress.model = primary.provider.name, primary.model
        limits = {
            f"slot:{slot.id}": slot.max_in_flight or progress.runtime.slot_max_in_flight,
            f"provider:{primary.provider.name}": progress.runtime.provider_max_in_flight,
        }

        async def finish(image: ProviderImage) -> EncodedImage:
            return await asyncio.to_thread(convert, image.data, answer_mime)

        try:
            async with ctx.admission.hold(limits, progress.job_id, progress.deadline, primary.typical) as admitted:
                progress.queue_ms = int(admitted.queue_seconds * 1000)
                templates = [
                    InputImage(data, row.mime, row.role)
                    for row, data in await slots.load_templates(ctx.db, ctx.store, slot.id)
                ]
                keys = {
                    r.provider.name: await settings_service.provider_keys(ctx.db, ctx.config, r.provider.name)
                    for r in routes
                }
                run = await run_routes(
                    routes,
                    RunContext(
                        photo=InputImage(photo.data, photo.mime),
                        templates=templates,
                        deadline=progress.deadline,
                        health=ctx.health,
                        keyring=ctx.keyring,
                        keys=lambda name: keys[name],
                        finish=finish,
                        publish=media.publisher(
                            ctx.db,
                            ctx.store,
                            ctx.config.public_base_url,
                            progress.received_at + timedelta(seconds=progress.runtime.sync_response_seconds),
                        ),
                        on_success=lambda route, seconds, cost: ctx.latency.observe(route.key, seconds, cost),
                    ),
                )
        except LimitReached as exc:
            INGEST_REJECTED_IN_FLIGHT.labels(exc.scope).inc()
            raise ApiError(
                429,
                "rate_limited",
                f"too many photos in flight for this {exc.scope}; the wait would not fit the deadline",
                headers={"Retry-After": str(exc.retry_after)},
            ) from None
        except RunFailed as failed:
            progress.attempts = failed.attempts
            progress.provider_ms = sum(a.latency_ms for a in failed.attempts)
            error = failure_answer(failed.failure)
            if slot.on_failure != "original":
                raise error from None
            progress.fallback, progress.degraded = "original", error
            return await asyncio.to_thread(convert, photo.data, answer_mime)
        progress.attempts, progress.provider_ms = run.attempts, run.provider_ms
        progress.provider, progress.route_index = run.route.provider.name, run.route.index
        progress.model = run.image.model or run.route.model
        progress.fallback = "route" if run.route.index else None
        return run.output

    async def _finish_failed(self, progress: _Progress, error: ApiError) -> None:
        INGEST_REQUESTS.labels(progress.slot_id, error.failure_reason).inc()
        INGEST_SECONDS.labels(error.failure_reason).observe(self.ctx.clock.monotonic() - progress.start)
        await jobs.finish(
            self.ctx.db,
            progress.job_id,
            progress.attempts,
            status="timeout" if error.status == "timeout" else "failed",
            failure_reason=error.failure_reason,
            failure_detail=error.detail,
            http_status=error.http_status,
            **progress.final_fields(),
        )


async def _drain(body: AsyncIterator[bytes], cap: int) -> None:
    """Read and discard the rest of the body (up to ``cap`` bytes), so the client reads our answer
    instead of a connection reset."""
    seen = 0
    try:
        async for chunk in body:
            seen += len(chunk)
            if seen > cap:
                return
    except ClientDisconnect:
        return
