"""Pages: the admin UI at ``/ui/``, the guests' gallery at ``/gallery`` and result page ``/r/{job_id}``.

The pages are static HTML + vanilla JS modules (no build step) talking to the JSON API."""

from html import escape
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    """The admin UI."""
    return RedirectResponse("/ui/")


@router.get("/api/ingest/{slot_id}")
@router.get("/ingest/{slot_id}")
async def ingest_in_a_browser(slot_id: str) -> HTMLResponse:
    """Someone pasted an ingest URL into a browser: 405 with ``Allow: POST`` and a short page
    saying what the URL is for (instead of a bare JSON 405)."""
    page = (
        "<!doctype html><meta charset=utf-8><title>PhotoChanger ingest</title>"
        f"<h1>This is the booth's upload address for {escape(slot_id)}</h1>"
        "<p>DSLR Remote Pro sends photos here with <code>POST</code> (multipart/form-data with "
        "<code>password</code> and <code>fileToUpload</code>); a browser cannot use it. "
        '<a href="/ui/">Open the admin UI</a> to set up slots and test them.</p>'
        "<p lang=ru>Это адрес загрузки фото для фотобудки (POST из DSLR Remote Pro); в браузере он не "
        'открывается. <a href="/ui/">Открыть панель администратора</a>.</p>'
    )
    return HTMLResponse(page, status_code=405, headers={"Allow": "POST"})


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    """The icon (SVG) for browsers that ask for ``/favicon.ico``."""
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@router.get("/gallery")
async def gallery() -> FileResponse:
    """The public gallery page for guests (shows results while sharing is on)."""
    return FileResponse(STATIC / "gallery.html", headers={"Cache-Control": "no-cache"})


@router.get("/gallery/show")
async def slideshow() -> FileResponse:
    """The gallery as a full-screen slideshow for the venue's screen: newest first, one photo
    every few seconds, new photos picked up without a reload; only what the gallery shows."""
    return FileResponse(STATIC / "show.html", headers={"Cache-Control": "no-cache"})


@router.get("/r/{job_id}")
async def result_page(job_id: str) -> FileResponse:
    """A guest's result page: the photo, a download button and a QR code of its link."""
    return FileResponse(STATIC / "result.html", headers={"Cache-Control": "no-cache"})
