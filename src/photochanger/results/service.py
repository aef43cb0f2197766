"""Finding a job's downloadable result: 404 if there is none, 410 once past its TTL."""

import re
from dataclasses import dataclass
from pathlib import Path

from photochanger.context import AppContext
from photochanger.db import utcnow
from photochanger.errors import ApiError
from photochanger.jobs import service as jobs
from photochanger.media.images import EXTENSION_BY_MIME

JOB_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class ResultFile:
    """A result on disk with its MIME type and a download file name."""

    path: Path
    mime: str
    filename: str


async def find_result(ctx: AppContext, job_id: str) -> ResultFile:
    """The result of ``job_id``. Raises :class:`ApiError` 404 ``result_not_found`` or 410
    ``result_expired`` (past ``result_expires_at`` even if the file is still there)."""
    not_found = ApiError(
        404, "result_not_found", "no result for this job", job_id=job_id if JOB_ID.match(job_id) else None
    )
    job = await jobs.get(ctx.db, job_id) if JOB_ID.match(job_id) else None
    if job is None or job.result_path is None or job.result_mime is None:
        raise not_found
    if job.media_purged_at is not None or (job.result_expires_at and job.result_expires_at <= utcnow()):
        raise ApiError(410, "result_expired", "this result has expired", job_id=job_id)
    path = ctx.store.path(job.result_path)
    if not path.is_file():
        raise not_found
    stamp = job.received_at.strftime("%Y%m%d-%H%M%S")
    filename = f"photochanger-{job.slot_id}-{stamp}-{job.id[:8]}{EXTENSION_BY_MIME[job.result_mime]}"
    return ResultFile(path, job.result_mime, filename)
