"""``GET /public/results/{job_id}``: the result image, inline or as a download."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from photochanger.errors import ERROR_RESPONSES, ApiError, ErrorBody
from photochanger.media.service import published
from photochanger.results.service import find_result, public_base, qr_svg, thumbnail
from photochanger.urls import take_home_url

REVALIDATE = "private, no-cache"  # ETag-revalidated each time: hiding or deleting a photo applies at once

router = APIRouter(
    tags=["results"],
    responses={code: ERROR_RESPONSES[code] for code in (404, 500)}
    | {410: {"model": ErrorBody, "description": "Expired"}},
)


IMAGE = {
    200: {
        "content": {
            m: {"schema": {"type": "string", "format": "binary"}} for m in ("image/jpeg", "image/png", "image/webp")
        }
    }
}


@router.get("/public/results/{job_id}", response_class=FileResponse, responses=IMAGE)
async def get_result(job_id: str, request: Request, download: bool = False) -> FileResponse:
    """The image (``?download=1``: as an attachment with a file name). 404 or 410 as JSON."""
    result = await find_result(request.app.state.ctx, job_id)
    return FileResponse(
        result.path,
        media_type=result.mime,
        filename=result.filename,
        content_disposition_type="attachment" if download else "inline",
        headers={"Cache-Control": REVALIDATE},
    )


@router.get(
    "/public/results/{job_id}/thumbnail", response_class=FileResponse, responses={200: {"content": {"image/jpeg": {}}}}
)
async def get_thumbnail(job_id: str, request: Request) -> FileResponse:
    """A JPEG thumbnail (at most 320 px) of the result."""
    path = await thumbnail(request.app.state.ctx, job_id)
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": REVALIDATE})


@router.get(
    "/public/provider-media/{token}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
async def provider_media(token: str, request: Request) -> FileResponse:
    """An input image published for a provider that fetches by URL; 410 once the job's deadline passed."""
    ctx = request.app.state.ctx
    try:
        path, mime = await published(ctx.db, ctx.store, token)
    except LookupError:
        raise ApiError(404, "media_not_found", "no such media") from None
    except TimeoutError:
        raise ApiError(410, "media_expired", "this link has expired") from None
    return FileResponse(path, media_type=mime, headers={"Cache-Control": "no-store"})


@router.get("/public/results/{job_id}/qr.svg", responses={200: {"content": {"image/svg+xml": {}}}})
async def result_qr(job_id: str, request: Request) -> Response:
    """A QR code (SVG, made by the ``qrcode`` library) of the result page, for guests to scan."""
    ctx = request.app.state.ctx
    await find_result(ctx, job_id)  # 404 / 410 like the image itself
    page = take_home_url(public_base(ctx, str(request.base_url)), job_id)
    return Response(qr_svg(page), media_type="image/svg+xml", headers={"Cache-Control": REVALIDATE})
