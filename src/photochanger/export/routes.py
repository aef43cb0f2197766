"""``POST /api/events/{id}/export-link`` and ``GET /api/events/{id}/export.zip``: an event's
photos as one streamed ZIP with ``photos.csv``."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from photochanger.auth.dependencies import AdminSession, bearer, current_session
from photochanger.db import utcnow
from photochanger.dependencies import Ctx
from photochanger.errors import ERROR_RESPONSES, ApiError, error_docs
from photochanger.events import service as events
from photochanger.export import service
from photochanger.export.schemas import ExportLink
from photochanger.urls import public_base

router = APIRouter(prefix="/api/events", tags=["events"], responses=ERROR_RESPONSES)


async def _event(ctx, event_id: str):
    try:
        return await events.get(ctx.db, event_id)
    except events.EventNotFound:
        raise ApiError(404, "event_not_found", f"no event {event_id!r}") from None


@router.post("/{event_id}/export-link", response_model=ExportLink, responses=error_docs(404))
async def export_link(event_id: str, ctx: Ctx, _: AdminSession, originals: bool = False) -> ExportLink:
    """A download link of the event's export valid for 2 minutes (a browser download cannot send
    the bearer token; the link carries a ticket for this event only)."""
    await _event(ctx, event_id)
    ticket = service.issue_ticket(ctx.config.resolved_jwt_secret, event_id)
    query = f"ticket={ticket}" + ("&originals=true" if originals else "")
    return ExportLink(url=f"/api/events/{event_id}/export.zip?{query}", expires_in=service.TICKET_SECONDS)


@router.get(
    "/{event_id}/export.zip",
    responses={200: {"content": {"application/zip": {}}}, **error_docs(401, 404)},
    response_class=StreamingResponse,
)
async def export_zip(
    event_id: str,
    request: Request,
    ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    originals: Annotated[bool, Query(description="also the originals as the booth sent them")] = False,
    ticket: Annotated[str | None, Query(description="from POST …/export-link (instead of a bearer token)")] = None,
) -> StreamingResponse:
    """The event's results (and ``originals``) with ``photos.csv`` (UTF-8 with BOM), one ZIP
    streamed as it is built. Authorised by a bearer token or by a ticket from ``export-link``."""
    if ticket is not None:
        try:
            service.check_ticket(ctx.config.resolved_jwt_secret, event_id, ticket)
        except service.InvalidTicket:
            raise ApiError(401, "unauthorized", "the export link expired; ask for a new one") from None
    else:
        await current_session(ctx, credentials)
    event = await _event(ctx, event_id)
    base = public_base(ctx.config.public_base_url, str(request.base_url))
    name = service.file_name(event.name, utcnow())
    return StreamingResponse(
        service.zip_stream(ctx.db, ctx.store, event_id, base, originals),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
