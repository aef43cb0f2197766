"""Gallery sharing (admin) and the public listing for guests."""

from fastapi import APIRouter, Request, Response

from photochanger.auth.dependencies import AdminSession
from photochanger.dependencies import Ctx
from photochanger.errors import ERROR_RESPONSES, ApiError, error_docs
from photochanger.events import service as events
from photochanger.gallery import service
from photochanger.gallery.schemas import Moderation, PublicGallery, ShareRequest, ShareState
from photochanger.results.service import public_base

router = APIRouter(prefix="/api", tags=["gallery"], responses=ERROR_RESPONSES)


@router.patch("/jobs/{job_id}", status_code=204, responses=error_docs(404))
async def moderate(job_id: str, body: Moderation, ctx: Ctx, _: AdminSession) -> Response:
    """Hide a photo from guests (``{"hidden": true}``: it leaves the public gallery and its public
    links answer 404) or show it again (``false``); ``{"approved": true}`` lets it into a gallery
    shared with approval (``false`` withdraws it)."""
    if body.hidden is None and body.approved is None:
        raise ApiError(400, "invalid_request", "send hidden and/or approved")
    try:
        await service.moderate(ctx.db, job_id, body.hidden, body.approved)
    except service.JobNotFound:
        raise ApiError(404, "job_not_found", "no such job") from None
    return Response(status_code=204)


@router.delete("/jobs/{job_id}/media", status_code=204, responses=error_docs(404))
async def delete_media(job_id: str, request: Request, ctx: Ctx, _: AdminSession) -> Response:
    """Delete a photo's files on a guest's request (original, result, thumbnail); the job row stays
    for statistics and its public links answer 410 ``result_expired``."""
    try:
        await service.delete_media(ctx.db, ctx.store, job_id)
    except service.JobNotFound:
        raise ApiError(404, "job_not_found", "no such job") from None
    return Response(status_code=204)


@router.get("/gallery/share", response_model=ShareState)
async def share_state(request: Request, ctx: Ctx, _: AdminSession) -> ShareState:
    """Whether the public gallery is open and until when."""
    return await service.state(ctx.db, public_base(ctx, str(request.base_url)), ctx.pin_failures)


@router.post("/gallery/share", response_model=ShareState, responses=error_docs(404))
async def share(body: ShareRequest, request: Request, ctx: Ctx, _: AdminSession) -> ShareState:
    """Open the public gallery for ``minutes`` (1–1440, default 15), for ``slots`` (default all),
    with photos from now on unless ``include_earlier``, titled ``title``; or for one event
    (``event_id``: its photos, its title and colour)."""
    try:
        return await service.share(ctx.db, public_base(ctx, str(request.base_url)), body, ctx.pin_failures)
    except events.EventNotFound:
        raise ApiError(404, "event_not_found", f"no event {body.event_id!r}") from None


@router.delete("/gallery/share", status_code=204)
async def stop_sharing(ctx: Ctx, _: AdminSession) -> Response:
    """Close the public gallery now."""
    await service.stop(ctx.db)
    return Response(status_code=204)


@router.get("/public/gallery/qr.svg", responses={200: {"content": {"image/svg+xml": {}}}})
async def gallery_qr(request: Request, ctx: Ctx) -> Response:
    """A QR code (SVG) of the public gallery's address, for a second screen at the event."""
    svg = await ctx.qr_codes.svg(f"{public_base(ctx, str(request.base_url))}/gallery")
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-cache"})


@router.get("/public/gallery", response_model=PublicGallery, responses=error_docs(401, 403, 429))
async def public_gallery(request: Request, ctx: Ctx, response: Response) -> PublicGallery:
    """Recent results while shared (no login); 30 requests per minute per IP. A gallery shared
    with a PIN needs it in ``X-Gallery-Pin`` (401 ``pin_required`` without it or with a wrong one)."""
    try:
        listing = await service.public_listing(
            ctx.db,
            public_base(ctx, str(request.base_url)),
            request.client.host if request.client else "unknown",
            request.headers.get("x-gallery-pin"),
            pins=ctx.pin_failures,
            requests=ctx.gallery_requests,
            listing=ctx.gallery_listing,
        )
    except service.PinLocked as exc:
        raise ApiError(
            429,
            "pin_locked",
            "too many wrong PINs for this gallery; ask the studio",
            headers={"Retry-After": str(exc.retry_after)},
        ) from None
    except service.PinRequired:
        raise ApiError(401, "pin_required", "this gallery needs the PIN shown at the event") from None
    except service.GalleryClosed:
        raise ApiError(403, "gallery_not_shared", "the gallery is not shared right now") from None
    except service.TooManyRequests as exc:
        raise ApiError(
            429, "rate_limited", "too many requests; slow down", headers={"Retry-After": str(exc.retry_after)}
        ) from None
    response.headers["Cache-Control"] = "no-cache"  # the listing is cached server-side; stopping must be immediate
    return listing
