"""Sharing the gallery: the open-until time lives in the database (survives restarts, holds across
processes); guests' requests are counted per IP in the database (30 per minute)."""

import time
from datetime import datetime, timedelta

from photochanger.db import Database, utcnow
from photochanger.gallery import repository
from photochanger.gallery.schemas import GalleryItem, PublicGallery, ShareState
from photochanger.settings import repository as settings_repository
from photochanger.urls import result_url, thumbnail_url

SHARED_UNTIL = "gallery_shared_until"
REQUESTS_PER_MINUTE = 30
CACHE_SECONDS = 30
ITEMS = 60


class GalleryClosed(Exception):
    """The gallery is not shared right now."""


class TooManyRequests(Exception):
    """The client IP used its 30 requests this minute; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


_cache: tuple[float, str, list[tuple[str, datetime]]] | None = None  # (monotonic time, base, rows)


async def _shared_until(db: Database) -> datetime | None:
    async with db.transaction() as session:
        value = await settings_repository.get(session, SHARED_UNTIL)
    until = datetime.fromisoformat(value) if value else None
    return until if until and until > utcnow() else None


async def state(db: Database, base: str) -> ShareState:
    """The current sharing state."""
    until = await _shared_until(db)
    return ShareState(active=until is not None, shared_until=until, public_url=f"{base}/gallery")


async def share(db: Database, base: str, minutes: int) -> ShareState:
    """Open the gallery for ``minutes`` from now (replacing any earlier end)."""
    async with db.transaction() as session:
        await settings_repository.put(session, SHARED_UNTIL, (utcnow() + timedelta(minutes=minutes)).isoformat())
    return await state(db, base)


async def stop(db: Database) -> None:
    """Close the gallery now."""
    async with db.transaction() as session:
        await settings_repository.remove(session, SHARED_UNTIL)


async def public_listing(db: Database, base: str, client_ip: str) -> PublicGallery:
    """Recent results for guests. Raises :class:`GalleryClosed` or :class:`TooManyRequests`."""
    global _cache
    until = await _shared_until(db)
    if until is None:
        raise GalleryClosed
    now = utcnow()
    window = now.replace(second=0, microsecond=0)
    async with db.transaction() as session:
        count = await repository.hit(session, f"gallery:{client_ip}", window)
        if count == 1:
            await repository.forget_buckets(session, window - timedelta(minutes=5))
    if count > REQUESTS_PER_MINUTE:
        raise TooManyRequests(60 - now.second)
    if _cache is None or _cache[1] != base or time.monotonic() - _cache[0] > CACHE_SECONDS:
        async with db.transaction() as session:
            _cache = (time.monotonic(), base, await repository.recent_results(session, now, ITEMS))
    items = [
        GalleryItem(result_url=result_url(base, job_id), thumbnail_url=thumbnail_url(base, job_id), taken_at=at)
        for job_id, at in _cache[2]
    ]
    return PublicGallery(shared_until=until, items=items)
