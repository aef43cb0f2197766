"""Sharing the gallery and moderating it: the open-until time lives in the database (survives
restarts, holds across processes); guests' requests are counted per IP (30 per minute; in the
database on PostgreSQL, shared by every process, in memory on SQLite so that polling guests write
nothing); wrong PINs are counted per share from every address together, and the share locks for
the hour after :data:`PIN_FAILURES_PER_HOUR` of them (the admin shares again with a new PIN); an
admin hides a result or deletes a photo's files. Each change of what guests may see (a share, a
hide or approval, a deletion) writes a new listing version, so every process's cached listing is
replaced at its next request."""

import hmac
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.clock import SYSTEM_CLOCK, Clock
from photochanger.db import Database, utcnow
from photochanger.events import service as events
from photochanger.gallery import repository
from photochanger.gallery.schemas import GalleryItem, PublicGallery, ShareRequest, ShareState
from photochanger.settings import repository as settings_repository
from photochanger.storage import MediaStore, thumbnail_path
from photochanger.throttle.service import Throttle
from photochanger.urls import result_url, thumbnail_url

SHARED_UNTIL = "gallery_shared_until"
SHARE_SCOPE = "gallery_share_scope"  # {"slots": [...] | None, "since": iso | None, "title": str | None}
LISTING_VERSION = "gallery_listing_version"  # a new random token at each change of what guests may see
REQUESTS_PER_MINUTE = 30  # per client IP on the public gallery
PIN_FAILURES_PER_HOUR = 30  # wrong PINs for one share from every address together, then it locks for the hour
CACHE_SECONDS = 30
ITEMS = 60


class GalleryClosed(Exception):
    """The gallery is not shared right now."""


class PinRequired(Exception):
    """The gallery is shared with a PIN and the request has none or a wrong one."""


class PinLocked(Exception):
    """Too many wrong PINs for this share; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class TooManyRequests(Exception):
    """The client IP used its 30 requests this minute; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class ListingCache:
    """The public listing as last read from the database: its rows ``(job id, taken at)`` and the
    share's scope, for one base URL and listing version (:data:`LISTING_VERSION`), kept at most
    :data:`CACHE_SECONDS` so that new photos appear (guests poll; the listing is read at most
    twice a minute per process). A hide, approval, deletion or new share changes the version in
    the database, which replaces the entry in every process at its next request. One per process,
    in the app's context; ``clock`` is the context's."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        self._entry: tuple[float, tuple[str, str | None], list[tuple[str, datetime]], dict] | None = None

    def get(self, base: str, version: str | None) -> tuple[list[tuple[str, datetime]], dict] | None:
        """The rows and scope read for ``base`` at ``version`` less than :data:`CACHE_SECONDS`
        ago, else None."""
        entry = self._entry
        if entry is None or entry[1] != (base, version) or self.clock.monotonic() - entry[0] > CACHE_SECONDS:
            return None
        return entry[2], entry[3]

    def put(self, base: str, version: str | None, rows: list[tuple[str, datetime]], scope: dict) -> None:
        """Keep ``rows`` and ``scope`` as read for ``base`` at ``version``."""
        self._entry = (self.clock.monotonic(), (base, version), rows, scope)


async def _share_head(db: Database) -> tuple[datetime | None, str | None]:
    """Until when the gallery is shared (None: not now) and the listing version, in one transaction."""
    async with db.transaction() as session:
        value = await settings_repository.get(session, SHARED_UNTIL)
        version = await settings_repository.get(session, LISTING_VERSION)
    until = datetime.fromisoformat(value) if value else None
    return (until if until and until > utcnow() else None), version


async def _shared_until(db: Database) -> datetime | None:
    return (await _share_head(db))[0]


async def _scope(db: Database) -> dict:
    async with db.transaction() as session:
        return await settings_repository.get(session, SHARE_SCOPE) or {}


async def _new_listing_version(session: AsyncSession) -> None:
    """What guests may see changed: every process's cached listing is replaced at its next request."""
    await settings_repository.put(session, LISTING_VERSION, uuid.uuid4().hex)


def _pin_key(until: datetime | None, scope: dict) -> str:
    """The key of one share's PIN guesses: a new share (or a new PIN) starts afresh."""
    return f"pin:{until.isoformat() if until else ''}:{scope.get('pin')}"


async def state(db: Database, base: str, pins: Throttle | None = None) -> ShareState:
    """The current sharing state (``pins``: wrong-PIN counts, to tell whether the PIN is locked)."""
    until = await _shared_until(db)
    scope = await _scope(db) if until else {}
    locked = bool(until and scope.get("pin") and pins and await pins.retry_after(_pin_key(until, scope)))
    return ShareState(
        active=until is not None,
        shared_until=until,
        public_url=f"{base}/gallery",
        slots=scope.get("slots"),
        since=datetime.fromisoformat(scope["since"]) if scope.get("since") else None,
        title=scope.get("title"),
        pin=scope.get("pin"),
        approval=bool(scope.get("approval")),
        pin_locked=locked,
        event_id=scope.get("event_id"),
        colour=scope.get("colour"),
        logo_url=scope.get("logo_url"),
    )


async def share(
    db: Database,
    base: str,
    request: ShareRequest,
    pins: Throttle | None = None,
) -> ShareState:
    """Open the gallery for ``request.minutes`` from now (replacing any earlier sharing) for its
    slots, with the photos taken from ``request.since``, else from now on unless it includes
    earlier photos; every process reads the listing afresh (a new listing version). With
    ``request.event_id`` it shows that event's photos (whenever taken) under its title (unless
    ``title`` is given) and colour. Raises :class:`~photochanger.events.service.EventNotFound`."""
    now = utcnow()
    scope = {
        "slots": sorted(set(request.slots)) if request.slots else None,
        "since": request.since.isoformat() if request.since else None if request.include_earlier else now.isoformat(),
        "title": request.title or None,
        "pin": request.pin or None,
        "approval": request.approval,
    }
    if request.event_id:
        event = await events.get(db, request.event_id)
        scope |= {"event_id": event.id, "slots": None, "since": request.since.isoformat() if request.since else None,
                  "title": request.title or event.title or event.name, "colour": event.colour,
                  "logo_url": events.logo_url(event)}  # fmt: skip
    async with db.transaction() as session:
        await settings_repository.put(session, SHARED_UNTIL, (now + timedelta(minutes=request.minutes)).isoformat())
        await settings_repository.put(session, SHARE_SCOPE, scope)
        await _new_listing_version(session)
    return await state(db, base, pins)


async def stop(db: Database) -> None:
    """Close the gallery now."""
    async with db.transaction() as session:
        await settings_repository.remove(session, SHARED_UNTIL)
        await settings_repository.remove(session, SHARE_SCOPE)


async def public_listing(
    db: Database,
    base: str,
    client_ip: str,
    pin: str | None = None,
    *,
    pins: Throttle,
    requests: Throttle,
    listing: ListingCache,
) -> PublicGallery:
    """Recent results for guests. Raises :class:`GalleryClosed`, :class:`TooManyRequests` (every
    request counts in ``requests`` per client IP, PIN guesses too), :class:`PinRequired` or
    :class:`PinLocked` (``pins`` holds the wrong PINs per share); the rows come from ``listing``
    while it is fresh."""
    until, version = await _share_head(db)
    if until is None:
        raise GalleryClosed
    now = utcnow()
    if (retry_after := await requests.reserve(client_ip)) is not None:
        raise TooManyRequests(retry_after)
    cached = listing.get(base, version)
    if cached is None:
        async with db.transaction() as session:
            scope = await settings_repository.get(session, SHARE_SCOPE) or {}
            since = datetime.fromisoformat(scope["since"]) if scope.get("since") else None
            approved_only = bool(scope.get("approval"))
            rows = await repository.recent_results(
                session, now, ITEMS, scope.get("slots"), since, approved_only, scope.get("event_id")
            )
        listing.put(base, version, rows, scope)
        cached = rows, scope
    rows, scope = cached
    wanted = scope.get("pin")
    if wanted:
        key = _pin_key(until, scope)
        if (retry_after := await pins.reserve(key)) is not None:  # counted before the check: parallel guesses too
            raise PinLocked(retry_after)
        if not hmac.compare_digest((pin or "").encode(), wanted.encode()):
            raise PinRequired
        await pins.forgive(key)
    items = [
        GalleryItem(result_url=result_url(base, job_id), thumbnail_url=thumbnail_url(base, job_id), taken_at=at)
        for job_id, at in rows
    ]
    return PublicGallery(
        shared_until=until, title=scope.get("title"), colour=scope.get("colour"), logo_url=scope.get("logo_url"),
        items=items,
    )  # fmt: skip


class JobNotFound(LookupError):
    """No job with that id."""


async def moderate(
    db: Database,
    job_id: str,
    hidden: bool | None = None,
    approved: bool | None = None,
) -> None:
    """Hide a result from guests (it leaves the public gallery at once; its public links answer
    404 ``result_not_found``) or show it again; approve it for a gallery shared with approval or
    withdraw that. None leaves a flag as it is; every process reads the listing afresh (a new
    listing version). Raises :class:`JobNotFound`."""
    now = utcnow()
    async with db.transaction() as session:
        found = True
        if hidden is not None:
            found = await repository.set_hidden(session, job_id, now if hidden else None)
        if approved is not None:
            found = await repository.set_approved(session, job_id, now if approved else None) and found
        if not found:
            raise JobNotFound(job_id)
        await _new_listing_version(session)


async def delete_media(db: Database, store: MediaStore, job_id: str) -> int:
    """Delete a job's photo files on a guest's request: the original, the result and its
    thumbnail. The row stays (statistics); public links answer 410 ``result_expired``. Files go
    first, then the row is marked, so a crash in between only repeats work. Returns the bytes
    freed; every process reads the listing afresh (a new listing version). Raises
    :class:`JobNotFound`."""
    async with db.transaction() as session:
        media = await repository.media_of(session, job_id)
    if media is None:
        raise JobNotFound(job_id)
    input_path, result_path = media
    paths = [input_path, result_path, thumbnail_path(result_path) if result_path else None]
    freed = 0
    for relative in filter(None, paths):
        freed += await store.delete(relative)
    async with db.transaction() as session:
        await repository.mark_media_deleted(session, job_id, utcnow())
        await _new_listing_version(session)
    return freed
