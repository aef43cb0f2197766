"""Admin slot routes: list, detail, versioned update, templates, test run."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Request, Response, UploadFile

from photochanger.auth.dependencies import AdminSession
from photochanger.dependencies import Ctx
from photochanger.errors import ERROR_RESPONSES, ApiError, error_docs
from photochanger.imaging import UnsupportedImage
from photochanger.jobs import service as jobs
from photochanger.providers.registry import InvalidSettings
from photochanger.responses import stored_response
from photochanger.slots import service
from photochanger.slots.schemas import (
    ProviderDescription,
    SlotDetail,
    SlotSummary,
    SlotUpdate,
    TemplateRole,
    TemplateView,
)
from photochanger.urls import ingest_url, public_base

router = APIRouter(prefix="/api/slots", tags=["slots"], responses=ERROR_RESPONSES)
catalogue_router = APIRouter(prefix="/api/providers", tags=["slots"], responses=ERROR_RESPONSES)
TEMPLATE_LIMIT_BYTES = 10 * 1024 * 1024
RECENT_RESULTS = 10


def _slot_not_found(slot_id: str) -> ApiError:
    return ApiError(404, "slot_not_found", f"no slot {slot_id!r}")


async def _read_upload(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "payload_too_large", f"file is over the {limit} byte limit")
    return data


@router.get("", response_model=list[SlotSummary])
async def list_slots(request: Request, ctx: Ctx, _: AdminSession) -> list[SlotSummary]:
    """The 15 slots with their ingest URL and last job."""
    base = public_base(ctx.config.public_base_url, str(request.base_url))
    latest = await jobs.latest_per_slot(ctx.db)
    results = await jobs.latest_per_slot(ctx.db, only_done=True)
    return [
        service.summary(slot, base, latest.get(slot.id), results.get(slot.id))
        for slot in await service.list_slots(ctx.db)
    ]


@router.get("/{slot_id}", response_model=SlotDetail, responses=error_docs(404))
async def get_slot(slot_id: str, request: Request, ctx: Ctx, response: Response, _: AdminSession) -> SlotDetail:
    """Full configuration, templates and the 10 most recent results. ``ETag`` is the version."""
    try:
        slot = await service.get_slot(ctx.db, slot_id)
    except service.SlotNotFound:
        raise _slot_not_found(slot_id) from None
    base = public_base(ctx.config.public_base_url, str(request.base_url))
    recent, _next = await jobs.list_page(ctx.db, limit=RECENT_RESULTS, slot_id=slot_id, status="done")
    response.headers["ETag"] = f'"{slot.version}"'
    return SlotDetail(
        **slot.model_dump(),
        ingest_url=ingest_url(base, slot.id),
        booth_fields=await service.booth_fields(ctx.db, slot.id),
        people_check_available=service.people_check_available(),
        recent_results=[jobs.summary(job, base) for job in recent],
    )


@router.put("/{slot_id}", response_model=SlotDetail, responses=error_docs(404, 412, 422))
async def update_slot(
    slot_id: str,
    change: SlotUpdate,
    request: Request,
    ctx: Ctx,
    response: Response,
    session: AdminSession,
    if_match: Annotated[str | None, Header()] = None,
) -> SlotDetail:
    """Save a validated change. With ``If-Match: "<version>"`` a concurrent edit gives 412."""
    expected = None
    if if_match is not None:
        try:
            expected = int(if_match.removeprefix("W/").strip('"'))
        except ValueError:
            raise ApiError(400, "invalid_request", 'If-Match must be the slot version, e.g. "3"') from None
    try:
        await service.update_slot(
            ctx.db,
            slot_id,
            change,
            by=session.username,
            expected_version=expected,
            public_base_url=ctx.config.public_base_url,
        )
    except service.SlotNotFound:
        raise _slot_not_found(slot_id) from None
    except service.VersionConflict as exc:
        raise ApiError(
            412, "version_conflict", f"the slot changed meanwhile (now version {exc.current}); reload"
        ) from None
    except InvalidSettings as exc:
        raise ApiError(422, "invalid_settings", str(exc), problem={"code": exc.code, **exc.params}) from None
    return await get_slot(slot_id, request, ctx, response, session)


@router.post("/{slot_id}/templates", response_model=TemplateView, status_code=201, responses=error_docs(404, 413, 415))
async def add_template(
    slot_id: str,
    ctx: Ctx,
    _: AdminSession,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 10 MB")],
    role: Annotated[TemplateRole, Form()] = "template",
) -> TemplateView:
    """Attach a template image (same magic-byte and decode checks as ingest)."""
    data = await _read_upload(file, TEMPLATE_LIMIT_BYTES)
    try:
        return await service.add_template(ctx.db, ctx.store, slot_id, data, role)
    except service.SlotNotFound:
        raise _slot_not_found(slot_id) from None
    except UnsupportedImage as exc:
        raise ApiError(415, "unsupported_media_type", str(exc)) from None
    except OSError as exc:
        raise ApiError.storage_unavailable() from exc
    except ValueError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None


@router.get("/{slot_id}/templates/{template_id}", response_class=Response, responses=error_docs(404))
async def get_template(slot_id: str, template_id: str, request: Request, ctx: Ctx, _: AdminSession) -> Response:
    """A template image (for previews in the slot editor)."""
    try:
        path, mime = await service.template_file(ctx.db, slot_id, template_id)
        return await stored_response(request, ctx.store, path, mime, cache_control="private, no-cache")
    except (service.SlotNotFound, FileNotFoundError):
        raise ApiError(404, "template_not_found", f"no template {template_id!r} on {slot_id!r}") from None


@router.delete("/{slot_id}/templates/{template_id}", status_code=204, responses=error_docs(404))
async def delete_template(slot_id: str, template_id: str, ctx: Ctx, _: AdminSession) -> Response:
    """Detach a template and delete its file."""
    try:
        await service.remove_template(ctx.db, ctx.store, slot_id, template_id, ctx.templates)
    except service.SlotNotFound:
        raise ApiError(404, "template_not_found", f"no template {template_id!r} on {slot_id!r}") from None
    return Response(status_code=204)


@catalogue_router.get("", response_model=list[ProviderDescription])
async def providers(_: AdminSession) -> list[ProviderDescription]:
    """Every provider a slot can use: its settings as JSON Schema (the slot editor builds its
    fields from it), models with list prices, whether it needs a prompt, a public URL or a key."""
    return service.provider_catalogue()
