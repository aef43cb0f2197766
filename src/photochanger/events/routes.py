"""Admin event routes: list, create, edit, start, end, delete, and one event's figures."""

from collections.abc import Awaitable
from typing import Annotated, TypeVar

from fastapi import APIRouter, File, Request, Response, UploadFile

from photochanger.auth.dependencies import AdminSession
from photochanger.db import utcnow
from photochanger.dependencies import Ctx
from photochanger.errors import ERROR_RESPONSES, ApiError, error_docs
from photochanger.events import service
from photochanger.events.models import Event
from photochanger.events.schemas import EventChange, EventSummary, EventView
from photochanger.imaging import UnsupportedImage
from photochanger.responses import stored_response
from photochanger.settings import service as settings_service
from photochanger.spend import service as spend
from photochanger.stats import service as stats

T = TypeVar("T")
router = APIRouter(prefix="/api/events", tags=["events"], responses=ERROR_RESPONSES)
public_router = APIRouter(prefix="/public/events", tags=["events"], responses=ERROR_RESPONSES)
LOGO_LIMIT_BYTES = 1_000_000  # under the 1 MiB body limit of admin routes, with the multipart framing


def _not_found(event_id: str) -> ApiError:
    return ApiError(404, "event_not_found", f"no event {event_id!r}")


def _invalid(exc: service.InvalidEvent) -> ApiError:
    return ApiError(409 if exc.code == "event_overlap" else 422, exc.code, str(exc))


async def _guarded(event_id: str, work: Awaitable[T]) -> T:
    """``work``'s result; a missing event answers 404 ``event_not_found``, a refused change 409
    ``event_overlap`` or 422 ``invalid_event``."""
    try:
        return await work
    except service.EventNotFound:
        raise _not_found(event_id) from None
    except service.InvalidEvent as exc:
        raise _invalid(exc) from None


async def _views(ctx, events: list[Event]) -> list[EventView]:
    now, photos = utcnow(), await stats.booth_photos_by_event(ctx.db, [e.id for e in events])
    return [
        EventView.model_validate(e).model_copy(
            update={"state": service.state(e, now), "photos": photos.get(e.id, 0), "logo_url": service.logo_url(e)}
        )
        for e in events
    ]


@router.get("", response_model=list[EventView])
async def list_events(ctx: Ctx, _: AdminSession) -> list[EventView]:
    """Every event, the latest start first, with its state now and its photo count."""
    return await _views(ctx, await service.list_events(ctx.db))


@router.post("", response_model=EventView, status_code=201, responses=error_docs(409, 422))
async def create(body: EventChange, ctx: Ctx, _: AdminSession) -> EventView:
    """A new event (``name`` and ``slot_ids`` required; with ``starts_at`` it is scheduled, else
    it waits for ``start``). 409 ``event_overlap`` when another event uses one of its slots then."""
    try:
        event = await service.create(ctx.db, body)
    except service.InvalidEvent as exc:
        raise _invalid(exc) from None
    return (await _views(ctx, [event]))[0]


@router.get("/{event_id}", response_model=EventView, responses=error_docs(404))
async def get_event(event_id: str, ctx: Ctx, _: AdminSession) -> EventView:
    """One event."""
    return (await _views(ctx, [await _guarded(event_id, service.get(ctx.db, event_id))]))[0]


@router.patch("/{event_id}", response_model=EventView, responses=error_docs(404, 409, 422))
async def update(event_id: str, body: EventChange, ctx: Ctx, _: AdminSession) -> EventView:
    """Change the fields sent (photos already taken stay with the event they arrived in)."""
    event = await _guarded(event_id, service.update(ctx.db, event_id, body))
    return (await _views(ctx, [event]))[0]


@router.post("/{event_id}/start", response_model=EventView, responses=error_docs(404, 409))
async def start(event_id: str, ctx: Ctx, _: AdminSession) -> EventView:
    """Make the event live now: its slots' photos belong to it from this moment."""
    event = await _guarded(event_id, service.start(ctx.db, event_id))
    return (await _views(ctx, [event]))[0]


@router.post("/{event_id}/end", response_model=EventView, responses=error_docs(404, 422))
async def end(event_id: str, ctx: Ctx, _: AdminSession) -> EventView:
    """End the event now: later photos of its slots belong to no event."""
    event = await _guarded(event_id, service.end(ctx.db, event_id))
    return (await _views(ctx, [event]))[0]


@router.delete("/{event_id}", status_code=204, responses=error_docs(404, 422))
async def delete(event_id: str, ctx: Ctx, _: AdminSession) -> Response:
    """Delete an event that is not live; its photos stay (as photos of no event)."""
    await _guarded(event_id, service.delete(ctx.db, ctx.store, event_id))
    return Response(status_code=204)


@router.get("/{event_id}/summary", response_model=EventSummary, responses=error_docs(404))
async def summary(event_id: str, ctx: Ctx, _: AdminSession) -> EventSummary:
    """The event's figures for the dashboard: photos, on-time success rate, p95 total time, and
    spend (spent and reserved, US dollars) against its cap."""
    event = await _guarded(event_id, service.get(ctx.db, event_id))
    overview = await stats.overview(ctx.db, "all", event_id=event_id)
    spent, reserved, refused_at_cap = await spend.scope_totals(ctx.db, spend.event_scope(event_id))
    totals = overview.totals
    percent = (await settings_service.load(ctx.db)).spend_warning_percent
    return EventSummary(
        id=event.id,
        name=event.name,
        state=service.state(event, utcnow()),
        photos=(await stats.booth_photos_by_event(ctx.db, [event_id])).get(event_id, 0),
        done=totals.done,
        success_rate=totals.success_rate,
        p95_total_ms=totals.p95_total_ms,
        spent_usd=round(spent, 6),
        reserved_usd=round(reserved, 6),
        cap_usd=event.spend_cap_usd,
        spend_state=spend.state(spent + reserved, event.spend_cap_usd, percent, refused_at_cap),
    )


@router.put("/{event_id}/logo", response_model=EventView, responses=error_docs(404, 413, 415))
async def set_logo(event_id: str, ctx: Ctx, _: AdminSession, file: Annotated[UploadFile, File()]) -> EventView:
    """Upload the event's logo (multipart ``file``: JPEG, PNG or WebP, at most 1,000,000 bytes),
    shown on the take-home page, the gallery and the slideshow."""
    data = await file.read(LOGO_LIMIT_BYTES + 1)
    if len(data) > LOGO_LIMIT_BYTES:
        raise ApiError(413, "payload_too_large", f"a logo is at most {LOGO_LIMIT_BYTES} bytes")
    try:
        event = await _guarded(event_id, service.set_logo(ctx.db, ctx.store, event_id, data))
    except UnsupportedImage as exc:
        raise ApiError(415, "unsupported_media_type", str(exc)) from None
    return (await _views(ctx, [event]))[0]


@router.delete("/{event_id}/logo", response_model=EventView, responses=error_docs(404))
async def remove_logo(event_id: str, ctx: Ctx, _: AdminSession) -> EventView:
    """Remove the event's logo."""
    event = await _guarded(event_id, service.remove_logo(ctx.db, ctx.store, event_id))
    return (await _views(ctx, [event]))[0]


@public_router.get("/{event_id}/logo", responses={200: {"content": {"image/*": {}}}, **error_docs(404)})
async def logo(event_id: str, request: Request, ctx: Ctx) -> Response:
    """An event's logo (no login: guests' pages show it); 404 ``logo_not_found``."""
    try:
        event = await service.get(ctx.db, event_id)
    except service.EventNotFound:
        event = None
    if event is None or not event.logo_path or not event.logo_mime:
        raise ApiError(404, "logo_not_found", "this event has no logo")
    return await stored_response(request, ctx.store, event.logo_path, event.logo_mime, cache_control="max-age=86400")
