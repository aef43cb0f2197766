"""HTTP responses for stored media, whichever backend keeps it: the folder's file with
``sendfile``, an object streamed from S3 in 256 KiB pieces, or a redirect to a presigned URL.
Each carries an ``ETag`` and answers ``If-None-Match`` with ``304 Not Modified`` (RFC 9110 §13.1.2)."""

from email.utils import format_datetime

from fastapi import Request, Response
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse

from photochanger.errors import ApiError
from photochanger.storage import MediaStore, StoredObject


def _matches(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match")
    if not wanted:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
    return "*" in tags or etag in tags


async def stored_response(
    request: Request,
    store: MediaStore,
    relative: str,
    mime: str,
    *,
    cache_control: str,
    found: StoredObject | None = None,
    filename: str | None = None,
    attachment: bool = False,
    presign_seconds: int = 0,
) -> Response:
    """The response for media ``relative`` of type ``mime`` (``found``: its :meth:`MediaStore.stat`
    when the caller already has it). ``presign_seconds`` > 0 redirects (307) to a URL signed for
    that long when the store can sign one. Raises :class:`FileNotFoundError` when it is not there,
    :class:`ApiError` 503 ``storage_unavailable`` when the store cannot be reached."""
    try:
        found = found or await store.stat(relative)
    except OSError as exc:
        raise ApiError.storage_unavailable() from exc
    if found is None:
        raise FileNotFoundError(relative)
    headers = {
        "Cache-Control": cache_control,
        "ETag": found.etag,
        "Last-Modified": format_datetime(found.modified, usegmt=True),
    }
    disposition = "attachment" if attachment else "inline"
    if _matches(request, found.etag):
        return Response(status_code=304, headers=headers)
    if found.path is not None:
        return FileResponse(
            found.path, media_type=mime, headers=headers, filename=filename, content_disposition_type=disposition
        )
    if presign_seconds:
        url = await store.presign(relative, presign_seconds)
        if url:
            return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
    if filename:
        headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    headers["Content-Length"] = str(found.size)
    return StreamingResponse(store.stream(relative), media_type=mime, headers=headers)
