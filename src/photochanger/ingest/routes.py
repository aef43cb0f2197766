"""The three ways a photo enters the pipeline, as thin HTTP routes: the booth's
``POST /api/ingest/{slot_id}`` (alias ``POST /ingest/{slot_id}``), an admin's
``POST /api/slots/{slot_id}/test-run`` and ``POST /api/jobs/{job_id}/rerun``."""

import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from pydantic import ValidationError

from photochanger.auth.dependencies import AdminSession
from photochanger.dependencies import Ctx
from photochanger.errors import ERROR_RESPONSES, ApiError, error_docs
from photochanger.ingest import service
from photochanger.ingest.schemas import INGEST_OPENAPI
from photochanger.ingest.sources import BoothUpload, Origin, Rerun, TestPhoto
from photochanger.jobs import service as jobs
from photochanger.jobs.schemas import AttemptView, RunResult
from photochanger.slots.schemas import SlotUpdate

router = APIRouter(tags=["ingest"])


@router.post("/api/ingest/{slot_id}", openapi_extra=INGEST_OPENAPI, response_class=Response)
@router.post("/ingest/{slot_id}", include_in_schema=False, response_class=Response)
async def ingest(slot_id: str, request: Request, ctx: Ctx) -> Response:
    """Take a booth photo (multipart/form-data) and answer with the edited image."""
    try:
        content_length = int(request.headers["content-length"])
    except (KeyError, ValueError):
        content_length = None
    origin = Origin("ingest", _client_ip(request), request.url.query, dict(request.headers))
    upload = BoothUpload(slot_id, request.headers.get("content-type", ""), content_length, request.stream(), origin)
    success = await service.run(ctx, upload, str(request.base_url))
    headers = {"Cache-Control": "no-store", "X-Job-Id": success.job_id, "X-Result-Url": success.take_home_url}
    if success.fallback:
        headers["X-PhotoChanger-Fallback"] = success.fallback
    if success.late:  # the AI photo is still being made: X-Result-Url's page shows it when it exists
        headers["X-PhotoChanger-Late"] = "continuing"
    return Response(success.image.data, media_type=success.image.mime, headers=headers)


@router.post(
    "/api/slots/{slot_id}/test-run",
    response_model=RunResult,
    tags=["slots"],
    responses={**ERROR_RESPONSES, **error_docs(404, 413, 415, 422)},
)
async def test_run(
    slot_id: str,
    request: Request,
    ctx: Ctx,
    _: AdminSession,
    test_image: Annotated[UploadFile, File(description="the photo to test with")],
    slot_payload: Annotated[str | None, Form(description="JSON of unsaved slot fields (as PUT)")] = None,
    sample_fields: Annotated[
        str | None,
        Form(description='JSON object of booth fields for the prompt\'s placeholders, e.g. {"name": "Anna"}'),
    ] = None,
) -> RunResult:
    """Run the ingest pipeline on ``test_image`` (source ``ui_test``), optionally with unsaved
    changes; works on inactive slots."""
    try:
        change = SlotUpdate.model_validate(json.loads(slot_payload)) if slot_payload else None
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ApiError(422, "invalid_settings", f"slot_payload: {exc}") from None
    except RecursionError:
        raise ApiError(422, "invalid_settings", "slot_payload: nested too deeply") from None
    try:
        fields = json.loads(sample_fields) if sample_fields else {}
        if not isinstance(fields, dict):
            raise ValueError("not an object")
    except RecursionError:
        raise ApiError(422, "invalid_request", "sample_fields must be a JSON object: nested too deeply") from None
    except ValueError as exc:
        raise ApiError(422, "invalid_request", f"sample_fields must be a JSON object: {exc}") from None
    limit = ctx.config.max_upload_bytes
    data = await test_image.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "payload_too_large", f"file is over the {limit} byte limit")
    fields = {str(k)[:64]: str(v) for k, v in fields.items()}
    source = TestPhoto(slot_id, data, change, Origin("ui_test", _client_ip(request)), fields)
    return await _run_result(ctx, await service.run(ctx, source, str(request.base_url)))


@router.post(
    "/api/jobs/{job_id}/rerun",
    response_model=RunResult,
    tags=["jobs"],
    responses={**ERROR_RESPONSES, **error_docs(404, 410)},
)
async def rerun(job_id: str, request: Request, ctx: Ctx, _: AdminSession) -> RunResult:
    """Run a past job's original again with the slot's current configuration (source ``rerun``)."""
    source = Rerun(job_id, Origin("rerun", _client_ip(request)))
    return await _run_result(ctx, await service.run(ctx, source, str(request.base_url)))


async def _run_result(ctx, success: service.IngestSuccess) -> RunResult:
    """The JSON answer of a successful test run or rerun."""
    found = await jobs.detail(ctx.db, success.job_id)
    if found is None:  # deleted meanwhile
        raise ApiError(404, "job_not_found", "no such job")
    job, attempts = found
    return RunResult(
        job_id=job.id,
        result_url=success.result_url,
        duration_ms=job.total_ms or 0,
        attempts=[AttemptView.model_validate(a) for a in attempts],
    )


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
