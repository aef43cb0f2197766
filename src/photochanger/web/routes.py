"""Pages: the admin UI at ``/ui/``, the guests' gallery at ``/gallery`` and result page ``/r/{job_id}``.

The pages are static HTML + vanilla JS modules (no build step) talking to the JSON API."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    """The admin UI."""
    return RedirectResponse("/ui/")


@router.get("/gallery")
async def gallery() -> FileResponse:
    """The public gallery page for guests (shows results while sharing is on)."""
    return FileResponse(STATIC / "gallery.html", headers={"Cache-Control": "no-cache"})


@router.get("/r/{job_id}")
async def result_page(job_id: str) -> FileResponse:
    """A guest's result page: the photo, a download button and a QR code of its link."""
    return FileResponse(STATIC / "result.html", headers={"Cache-Control": "no-cache"})
