"""Media cleanup: expired originals and results, and abandoned temp files."""

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from photochanger import urls
from photochanger.clock import epoch_seconds
from photochanger.db import Database, utcnow
from photochanger.imaging import EXTENSION_BY_MIME
from photochanger.jobs import repository as jobs_repository
from photochanger.media import repository as media_repository
from photochanger.media.models import ProviderMedia
from photochanger.providers.base import InputImage
from photochanger.storage import MediaStore, thumbnail_path

PROVIDER_MEDIA_GRACE = timedelta(minutes=5)  # published inputs outlive their deadline a little on disk
TEMP_FILE_MAX_AGE_SECONDS = 3600  # an upload or write older than this is abandoned
BATCH = 500


@dataclass
class CleanupReport:
    """What a cleanup removed (or, on a dry run, would remove). Sizes in bytes."""

    jobs: int = 0
    files: int = 0
    bytes: int = 0
    temp_files: int = 0
    job_ids: list[str] = field(default_factory=list)


async def publish(db: Database, store: MediaStore, data: bytes, mime: str, expires_at: datetime) -> str:
    """Store ``data`` under ``provider-media/`` and return the token of its public link
    (``GET /public/provider-media/{token}``), valid until ``expires_at``."""
    token = secrets.token_urlsafe(32)
    relative = f"provider-media/{token}{EXTENSION_BY_MIME.get(mime, '.bin')}"
    await store.put(relative, data)
    async with db.transaction() as session:
        await media_repository.add(session, ProviderMedia(token=token, path=relative, mime=mime, expires_at=expires_at))
    return token


def publisher(
    db: Database, store: MediaStore, public_base_url: str | None, expires_at: datetime
) -> Callable[[InputImage], Awaitable[str]] | None:
    """The port a provider that fetches its inputs by URL receives: publishes an image at
    ``{public_base_url}/public/provider-media/{token}`` until ``expires_at``. None without a
    public base URL (such providers then fail with a configuration error)."""
    if not public_base_url:
        return None
    base = public_base_url.rstrip("/")

    async def publish_image(image: InputImage) -> str:
        return urls.provider_media_url(base, await publish(db, store, image.data, image.mime, expires_at))

    return publish_image


async def published(db: Database, token: str) -> tuple[str, str]:
    """The media path and MIME type behind ``token``. Raises ``LookupError`` (unknown) or
    ``TimeoutError`` (past its deadline: the link is gone)."""
    async with db.transaction() as session:
        media = await media_repository.get(session, token) if len(token) <= 64 else None
    if media is None:
        raise LookupError(token)
    if media.expires_at <= utcnow():
        raise TimeoutError(token)
    return media.path, media.mime


async def purge_provider_media(db: Database, store: MediaStore) -> int:
    """Delete published inputs whose links expired more than a few minutes ago; returns how many."""
    async with db.transaction() as session:
        rows = await media_repository.expired(session, utcnow() - PROVIDER_MEDIA_GRACE)
    for row in rows:
        await store.delete(row.path)
    if rows:
        async with db.transaction() as session:
            await media_repository.remove(session, [row.token for row in rows])
    return len(rows)


async def purge_expired(db: Database, store: MediaStore, *, dry_run: bool = False) -> CleanupReport:
    """Delete the files of jobs past ``result_expires_at`` and mark them purged.

    With ``dry_run`` nothing is deleted or marked; the report says what would be. Files are
    deleted before the rows are marked, so a crash in between only repeats work.
    """
    report = CleanupReport()
    now = utcnow()
    after = ""
    while True:
        async with db.transaction() as session:
            rows = await jobs_repository.expired_media(session, now, BATCH, after_id=after)
        if not rows:
            break
        after = rows[-1][0]
        for job_id, input_path, result_path, booth_path in rows:
            paths = [input_path, result_path, thumbnail_path(result_path) if result_path else None]
            paths += [booth_path, thumbnail_path(booth_path) if booth_path else None]  # a late photo's booth answer
            report.jobs += 1
            report.job_ids.append(job_id)
            for relative in filter(None, paths):
                found = await store.stat(relative)
                if found is not None:
                    report.files += 1
                    report.bytes += found.size if dry_run else await store.delete(relative)
        if not dry_run:
            async with db.transaction() as session:
                await jobs_repository.mark_purged(session, [row[0] for row in rows], now)
    report.temp_files = await purge_stale_scratch(store, dry_run=dry_run)
    return report


async def purge_stale_scratch(store: MediaStore, *, dry_run: bool = False) -> int:
    """Delete uploads abandoned in this machine's scratch folder for over an hour (a crashed
    process's); returns how many (would be) deleted."""

    def purge() -> int:
        stale = store.stale_temp_files(epoch_seconds() - TEMP_FILE_MAX_AGE_SECONDS)
        for temp in stale if not dry_run else ():
            temp.unlink(missing_ok=True)
        return len(stale)

    return await asyncio.to_thread(purge)
