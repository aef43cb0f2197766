"""Events: created, edited, started and ended by an admin (UI, API or CLI). An event is live from
``starts_at`` until ``ends_at``; two events can never be live on one slot at once (409
``event_overlap``), so the event of a photo is never in doubt: the one live for its slot when it
arrived, recorded on the job (:func:`photochanger.jobs.service.open_job`), so later edits of the
event never move photos."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from photochanger.db import Database, utcnow
from photochanger.events import repository
from photochanger.events.models import Event
from photochanger.events.schemas import EventChange, EventState
from photochanger.imaging import EXTENSION_BY_MIME, check_image_bytes
from photochanger.storage import MediaStore

LOGO_MAX_PIXELS = 16_000_000  # a logo larger than 16 MP is refused (it is shown a few hundred pixels wide)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)  # the end of an open-ended event, for overlap checks


class EventNotFound(LookupError):
    """No event with that id."""


class InvalidEvent(ValueError):
    """The event cannot be saved as sent; ``code`` is the stable ``failure_reason``
    (``event_overlap``: another event is live on one of its slots in that time; ``invalid_event``:
    a missing name or slots, or an end before the start)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def state(event: Event, now: datetime) -> EventState:
    """``planned`` (not started yet), ``live`` or ``ended`` at ``now``."""
    if event.starts_at is None or event.starts_at > now:
        return "planned"
    if event.ends_at is not None and event.ends_at <= now:
        return "ended"
    return "live"


def _span(event: Event) -> tuple[datetime, datetime] | None:
    if event.starts_at is None:
        return None
    return event.starts_at, event.ends_at or FAR_FUTURE


async def _check(session, event: Event) -> None:
    """Raise :class:`InvalidEvent` unless ``event`` can be saved beside every other event."""
    if not event.name or not event.slot_ids:
        raise InvalidEvent("invalid_event", "an event needs a name and at least one slot")
    if event.starts_at and event.ends_at and event.ends_at <= event.starts_at:
        raise InvalidEvent("invalid_event", "the event ends before it starts")
    span = _span(event)
    if span is None:
        return
    for other in await repository.scheduled(session):
        other_span = _span(other)
        if other.id == event.id or other_span is None:
            continue
        shared = sorted(set(other.slot_ids) & set(event.slot_ids))
        if shared and span[0] < other_span[1] and other_span[0] < span[1]:
            raise InvalidEvent(
                "event_overlap", f"{other.name!r} uses {', '.join(shared)} at that time; end it or pick other slots"
            )


async def _found(session, event_id: str) -> Event:
    """The event in ``session``. Raises :class:`EventNotFound`."""
    event = await repository.get(session, event_id)
    if event is None:
        raise EventNotFound(event_id)
    return event


def _apply(event: Event, change: EventChange) -> None:
    for name in change.model_fields_set:
        setattr(event, name, getattr(change, name))


async def create(db: Database, change: EventChange) -> Event:
    """A new event from ``change`` (``name`` and ``slot_ids`` required). Raises :class:`InvalidEvent`."""
    now = utcnow()
    event = Event(id=uuid.uuid4().hex[:12], slot_ids=[], created_at=now, updated_at=now)
    _apply(event, change)
    async with db.transaction(write=True) as session:
        await _check(session, event)
        await repository.add(session, event)
    return event


async def update(db: Database, event_id: str, change: EventChange) -> Event:
    """Change the fields sent in ``change``. Raises :class:`EventNotFound`, :class:`InvalidEvent`."""
    async with db.transaction(write=True) as session:
        event = await _found(session, event_id)
        _apply(event, change)
        event.updated_at = utcnow()
        await _check(session, event)
    return event


async def start(db: Database, event_id: str) -> Event:
    """Make the event live now (a planned one starts now; an ended one is reopened, open-ended).
    Raises :class:`EventNotFound`, :class:`InvalidEvent` (another event is live on its slots)."""
    now = utcnow()
    async with db.transaction(write=True) as session:
        event = await _found(session, event_id)
        if state(event, now) != "live":
            if event.starts_at is None or event.starts_at > now:
                event.starts_at = now
            event.ends_at = None if event.ends_at is None or event.ends_at <= now else event.ends_at
            event.updated_at = now
            await _check(session, event)
    return event


async def end(db: Database, event_id: str) -> Event:
    """End the event now (photos from now on belong to no event). Raises :class:`EventNotFound`."""
    now = utcnow()
    async with db.transaction(write=True) as session:
        event = await _found(session, event_id)
        if state(event, now) == "live":
            event.ends_at = now
            event.updated_at = now
        elif state(event, now) == "planned":
            raise InvalidEvent("invalid_event", "the event has not started")
    return event


async def get(db: Database, event_id: str) -> Event:
    """The event. Raises :class:`EventNotFound`."""
    async with db.transaction() as session:
        return await _found(session, event_id)


async def delete(db: Database, store: MediaStore, event_id: str) -> None:
    """Remove an event that is not live and its logo (its photos stay, as photos of no event).
    Raises :class:`EventNotFound`, :class:`InvalidEvent` while it is live."""
    async with db.transaction(write=True) as session:
        event = await _found(session, event_id)
        if state(event, utcnow()) == "live":
            raise InvalidEvent("invalid_event", "end the event before deleting it")
        logo = event.logo_path
        await repository.delete(session, event)
    await store.delete(logo)


async def list_events(db: Database) -> list[Event]:
    """Every event, the latest start first."""
    async with db.transaction() as session:
        return await repository.newest(session)


async def live(db: Database) -> list[Event]:
    """The events live now."""
    async with db.transaction() as session:
        return await repository.live_at(session, utcnow())


async def find(db: Database, key: str) -> Event:
    """The event whose id is ``key``, else the one whose name is ``key`` (the latest such, for the
    CLI). Raises :class:`EventNotFound`."""
    async with db.transaction() as session:
        event = await repository.get(session, key)
        if event is None:
            named = [e for e in await repository.newest(session, 1000) if e.name == key]
            event = named[0] if named else None
    if event is None:
        raise EventNotFound(key)
    return event


@dataclass(frozen=True)
class LiveEvent:
    """What a photo's run needs of its event: the id recorded on the job, its spend cap (US
    dollars; None: none), its photo webhook URL (None: the global one) and its name."""

    id: str
    name: str
    spend_cap_usd: float | None
    webhook_url: str | None


def live_event(event: Event | None) -> LiveEvent | None:
    """What a photo's run keeps of ``event`` (None: no event)."""
    if event is None:
        return None
    return LiveEvent(event.id, event.name, event.spend_cap_usd, event.webhook_url)


async def live_for_slot(session, slot_id: str, at: datetime) -> LiveEvent | None:
    """The event live for ``slot_id`` at ``at`` (a photo's arrival), or None, read in the
    caller's ``session`` (the job's insert: no transaction of its own on the photo's path)."""
    return live_event(await repository.live_for_slot(session, slot_id, at))


async def of_job(db: Database, event_id: str | None) -> LiveEvent | None:
    """The event a job recorded (None: none, or deleted since)."""
    if event_id is None:
        return None
    async with db.transaction() as session:
        return live_event(await repository.get(session, event_id))


def logo_url(event: Event) -> str | None:
    """The public address of the event's logo, relative to the server (its file name in the
    query: a new logo is a new URL, so browsers may cache each for long), or None."""
    if not event.logo_path:
        return None
    return f"/public/events/{event.id}/logo?v={event.logo_path.rsplit('/', 1)[-1]}"


async def look(db: Database, event_id: str | None) -> tuple[str | None, str | None, str | None]:
    """``(title, colour, logo URL)`` of an event for the guests' pages (its title, else its
    name); all None without an event."""
    if event_id is None:
        return None, None, None
    async with db.transaction() as session:
        event = await repository.get(session, event_id)
    return (event.title or event.name, event.colour, logo_url(event)) if event else (None, None, None)


async def set_logo(db: Database, store: MediaStore, event_id: str, data: bytes) -> Event:
    """Check ``data`` is a JPEG/PNG/WebP image and make it the event's logo (the old file is
    deleted once the row names the new one). Raises :class:`EventNotFound` and
    :class:`~photochanger.imaging.UnsupportedImage`."""
    checked = await asyncio.to_thread(check_image_bytes, data, LOGO_MAX_PIXELS)
    await get(db, event_id)
    relative = f"events/{event_id}/logo-{uuid.uuid4().hex[:12]}{EXTENSION_BY_MIME[checked.mime]}"
    await store.put(relative, data)
    try:
        async with db.transaction(write=True) as session:
            event = await _found(session, event_id)
            old, event.logo_path, event.logo_mime = event.logo_path, relative, checked.mime
            event.updated_at = utcnow()
    except EventNotFound:  # deleted meanwhile
        await store.delete(relative)
        raise
    await store.delete(old)
    return event


async def remove_logo(db: Database, store: MediaStore, event_id: str) -> Event:
    """The event without a logo (its file deleted). Raises :class:`EventNotFound`."""
    async with db.transaction(write=True) as session:
        event = await _found(session, event_id)
        old, event.logo_path, event.logo_mime = event.logo_path, None, None
        event.updated_at = utcnow()
    await store.delete(old)
    return event
