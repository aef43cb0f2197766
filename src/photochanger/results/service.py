"""Finding a job's downloadable result: 404 if there is none, 410 once past its TTL."""

import errno
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from cachetools import LRUCache
from PIL import Image

from photochanger import urls
from photochanger.db import utcnow
from photochanger.errors import ApiError
from photochanger.events import service as events
from photochanger.imaging import EXTENSION_BY_MIME, encode
from photochanger.jobs import service as jobs
from photochanger.jobs.schemas import JOB_ID
from photochanger.results.schemas import ResultStatus
from photochanger.storage import StoredObject, thumbnail_path
from photochanger.workers import WorkerPool

if TYPE_CHECKING:  # the context is built from every package's parts; only a type here
    from photochanger.context import AppContext

log = structlog.get_logger("photochanger.results")

THUMBNAIL_SIDE = 320  # pixels
QR_CACHE_ENTRIES = 512  # QR codes kept per process (each ~10 KB of SVG)


@dataclass(frozen=True)
class ResultFile:
    """A stored result: its media path, what the store knows of it, its MIME type and a download
    file name."""

    path: str
    found: StoredObject
    mime: str
    filename: str


def qr_svg(text: str) -> str:
    """A QR code of ``text`` as an SVG document (the ``qrcode`` library, 2-module quiet border).
    CPU-bound (tens of milliseconds): call it through :class:`QrCodes`, not on the event loop."""
    import qrcode  # loaded on the first QR a guest asks for, not at start (~6 MiB)
    from qrcode.image.svg import SvgPathImage

    return qrcode.make(text, image_factory=SvgPathImage, border=2).to_string().decode()


class QrCodes:
    """QR codes (SVG text) by the text they encode: rendered once in the image pool (off the event
    loop, under its bounds: :class:`~photochanger.workers.PoolBusy` when it is full), then kept,
    at most :data:`QR_CACHE_ENTRIES`, the least recently used dropped first. One per process, in
    the app's context; the public gallery's QR and every take-home page's share it."""

    def __init__(self, images: WorkerPool, entries: int = QR_CACHE_ENTRIES) -> None:
        self.images = images
        self._svg: LRUCache[str, str] = LRUCache(entries)

    async def svg(self, text: str) -> str:
        """The QR code of ``text`` as an SVG document."""
        if (cached := self._svg.get(text)) is None:
            cached = self._svg[text] = await self.images.run(qr_svg, text)
        return cached


def public_base(ctx: "AppContext", request_base: str) -> str:
    """``PUBLIC_BASE_URL`` or the base URL the request came in on, without trailing slash."""
    return urls.public_base(ctx.config.public_base_url, request_base)


async def thumbnail(ctx: "AppContext", job_id: str) -> tuple[str, StoredObject]:
    """A JPEG of at most 320 px of the result, made once (in the image pool) and kept beside it;
    returns its media path and what the store knows of it. Same errors as :func:`find_result`,
    and :class:`OSError` when the store fails."""
    result = await find_result(ctx, job_id)
    relative = thumbnail_path(result.path)
    found = await ctx.store.stat(relative)
    if found is None:
        data = await ctx.images.run(_make_thumbnail, await ctx.store.get(result.path))
        await ctx.store.put(relative, data)
        found = await ctx.store.stat(relative)
        if found is None:
            raise OSError(errno.EIO, "the thumbnail was not kept")
    return relative, found


def _make_thumbnail(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        img.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        return encode(img, "image/jpeg", quality=80).data


STATUS_POLL_SECONDS = 3.0  # how often a take-home page asks while the AI photo is being made


async def result_status(ctx: "AppContext", job_id: str) -> ResultStatus:
    """Where the photo of ``job_id`` stands (:class:`ResultStatus`). 404 ``result_not_found`` for
    no such job or a hidden one, 410 once expired, like the image."""
    job = await jobs.get(ctx.db, job_id) if JOB_ID.match(job_id) else None
    if job is None or job.hidden_at is not None:
        raise ApiError(404, "result_not_found", "no result for this job", job_id=job_id if job else None)
    if job.media_purged_at is not None or (job.result_expires_at and job.result_expires_at <= utcnow()):
        raise ApiError(410, "result_expired", "this result has expired", job_id=job_id)
    version = job.result_path.rsplit("/", 1)[-1] if job.result_path else None
    title, colour, logo_url = await events.look(ctx.db, job.event_id)
    if job.late_state == "continuing":
        return ResultStatus(
            state="making", version=version, poll_seconds=STATUS_POLL_SECONDS, title=title, colour=colour
        )
    if job.result_path is None or job.result_mime is None:
        return ResultStatus(state="unavailable", title=title, colour=colour, logo_url=logo_url)
    return ResultStatus(
        state="ready",
        late=job.late_state == "delivered",
        version=version,
        title=title,
        colour=colour,
        logo_url=logo_url,
    )


async def find_result(ctx: "AppContext", job_id: str) -> ResultFile:
    """The result of ``job_id``. Raises :class:`ApiError` 404 ``result_not_found`` (also when an
    admin hid it), 410 ``result_expired`` (past ``result_expires_at`` even if the file is still
    there, or recorded but missing from the store: logged as ``result.file_missing``) or 503
    ``storage_unavailable`` (the media store cannot be reached)."""
    not_found = ApiError(
        404, "result_not_found", "no result for this job", job_id=job_id if JOB_ID.match(job_id) else None
    )
    job = await jobs.get(ctx.db, job_id) if JOB_ID.match(job_id) else None
    if job is None or job.result_path is None or job.result_mime is None or job.hidden_at is not None:
        raise not_found  # a hidden photo is not there for guests
    if job.media_purged_at is not None or (job.result_expires_at and job.result_expires_at <= utcnow()):
        raise ApiError(410, "result_expired", "this result has expired", job_id=job_id)
    try:
        found = await ctx.store.stat(job.result_path)
    except OSError as exc:
        raise ApiError.storage_unavailable() from exc
    if found is None:  # recorded but gone from the store (deleted by hand, a restored backup without media)
        log.warning("result.file_missing", job_id=job_id, path=job.result_path)
        raise ApiError(410, "result_expired", "this result is no longer kept", job_id=job_id)
    stamp = job.received_at.strftime("%Y%m%d-%H%M%S")
    filename = f"photochanger-{job.slot_id}-{stamp}-{job.id[:8]}{EXTENSION_BY_MIME[job.result_mime]}"
    return ResultFile(job.result_path, found, job.result_mime, filename)
