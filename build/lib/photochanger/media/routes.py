"""``POST /api/media/cleanup``."""

from fastapi import APIRouter
from pydantic import BaseModel

from photochanger.auth.dependencies import AdminSession
from photochanger.dependencies import Ctx
from photochanger.errors import ERROR_RESPONSES
from photochanger.media.service import purge_expired

router = APIRouter(prefix="/api/media", tags=["media"], responses=ERROR_RESPONSES)


class CleanupResult(BaseModel):
    """What a cleanup removed: jobs whose media expired, files and bytes, abandoned temp files."""

    jobs: int
    files: int
    bytes: int
    temp_files: int


@router.post("/cleanup", response_model=CleanupResult)
async def cleanup(ctx: Ctx, _: AdminSession) -> CleanupResult:
    """Delete media past its TTL now (the server also does this periodically)."""
    report = await purge_expired(ctx.db, ctx.store)
    return CleanupResult(jobs=report.jobs, files=report.files, bytes=report.bytes, temp_files=report.temp_files)
