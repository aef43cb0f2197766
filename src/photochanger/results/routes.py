"""``GET /public/results/{job_id}``: the result image, inline or as a download."""

from typing import Any

from fastapi import APIRouter, Request, Response

from photochanger.dependencies import Ctx
from photochanger.errors import ERROR_RESPONSES, ApiError, ErrorBody
from photochanger.media.service import published
from photochanger.responses import stored_response
from photochanger.results.schemas import ResultStatus
from photochanger.results.service import find_result, public_base, result_status, thumbnail
from photochanger.urls import take_home_url

REVALIDATE = "private, no-cache"  # ETag-revalidated each time: hiding or deleting a photo applies at once

RESPONSES: dict[int | str, dict[str, Any]] = {code: ERROR_RESPONSES[code] for code in (404, 500)}
RESPONSES[410] = {"model": ErrorBody, "description": "Expired"}
router = APIRouter(tags=["results"], responses=RESPONSES)


IMAGE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            m: {"schema": {"type": "string", "format": "binary"}} for m in ("image/jpeg", "image/png", "image/webp")
        }
    }
}


def _gone_meanwhile(job_id: str) -> ApiError:
    return ApiError(404, "result_not_found", "no result for this job", job_id=job_id)


@router.get("/public/results/{job_id}", response_class=Response, responses=IMAGE)
async def get_result(job_id: str, request: Request, ctx: Ctx, download: bool = False) -> Response:
    """The image (``?download=1``: as an attachment with a file name), or with object storage and
    ``S3_PRESIGN_SECONDS`` a 307 to a presigned URL. 404, 410 or 503 as JSON."""
    result = await find_result(ctx, job_id)
    try:
        return await stored_response(
            request,
            ctx.store,
            result.path,
            result.mime,
            cache_control=REVALIDATE,
            found=result.found,
            filename=result.filename,
            attachment=download,
            presign_seconds=ctx.config.s3_presign_seconds,
        )
    except FileNotFoundError:
        raise _gone_meanwhile(job_id) from None


@router.get("/public/results/{job_id}/status", response_model=ResultStatus)
async def get_status(job_id: str, ctx: Ctx, response: Response) -> ResultStatus:
    """Whether the photo is ready or its AI version still being made (late delivery), for the
    take-home page to show the AI photo the moment it exists. 404 or 410 as JSON."""
    response.headers["Cache-Control"] = "no-store"
    return await result_status(ctx, job_id)


@router.get(
    "/public/results/{job_id}/thumbnail", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}}
)
async def get_thumbnail(job_id: str, request: Request, ctx: Ctx) -> Response:
    """A JPEG thumbnail (at most 320 px) of the result."""
    try:
        relative, found = await thumbnail(ctx, job_id)
        return await stored_response(request, ctx.store, relative, "image/jpeg", cache_control=REVALIDATE, found=found)
    except FileNotFoundError:
        raise _gone_meanwhile(job_id) from None
    except OSError as exc:
        raise ApiError.storage_unavailable() from exc


@router.get(
    "/public/provider-media/{token}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
async def provider_media(token: str, request: Request, ctx: Ctx) -> Response:
    """An input image published for a provider that fetches by URL (streamed from whichever store
    keeps it); 410 once the job's deadline passed."""
    try:
        path, mime = await published(ctx.db, token)
        return await stored_response(request, ctx.store, path, mime, cache_control="no-store")
    except (LookupError, FileNotFoundError):
        raise ApiError(404, "media_not_found", "no such media") from None
    except TimeoutError:
        raise ApiError(410, "media_expired", "this link has expired") from None


@router.get("/public/results/{job_id}/qr.svg", responses={200: {"content": {"image/svg+xml": {}}}})
async def result_qr(job_id: str, request: Request, ctx: Ctx) -> Response:
    """A QR code (SVG, made by the ``qrcode`` library) of the result page, for guests to scan."""
    await result_status(ctx, job_id)  # 404 / 410 like the image itself (a photo still being made has its QR)
    page = take_home_url(public_base(ctx, str(request.base_url)), job_id)
    return Response(await ctx.qr_codes.svg(page), media_type="image/svg+xml", headers={"Cache-Control": REVALIDATE})
