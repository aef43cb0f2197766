"""SQL of events."""

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.events.models import Event


async def get(session: AsyncSession, event_id: str) -> Event | None:
    """The event, or None."""
    return await session.get(Event, event_id)


async def add(session: AsyncSession, event: Event) -> None:
    """Insert ``event``."""
    session.add(event)
    await session.flush()


async def delete(session: AsyncSession, event: Event) -> None:
    """Remove ``event`` (its photos keep their ``event_id``; they then belong to no listed event)."""
    await session.delete(event)


async def newest(session: AsyncSession, limit: int = 200) -> list[Event]:
    """Events, the latest start first (not started ones first of all)."""
    query = select(Event).order_by(Event.starts_at.desc().nulls_first(), Event.created_at.desc()).limit(limit)
    return list(await session.scalars(query))


async def live_at(session: AsyncSession, at: datetime) -> list[Event]:
    """Events live at ``at``: started at or before it, not ended by it."""
    query = select(Event).where(
        Event.starts_at.is_not(None), Event.starts_at <= at, or_(Event.ends_at.is_(None), Event.ends_at > at)
    )
    return list(await session.scalars(query))


async def scheduled(session: AsyncSession) -> list[Event]:
    """Every event with a start time (for overlap checks)."""
    return list(await session.scalars(select(Event).where(Event.starts_at.is_not(None))))


async def live_for_slot(session: AsyncSession, slot_id: str, at: datetime) -> Event | None:
    """The event live at ``at`` whose slots include ``slot_id``, or None (a handful of rows are
    live at once; the slot is matched here, the same way on SQLite and PostgreSQL)."""
    for event in await live_at(session, at):
        if slot_id in (event.slot_ids or []):
            return event
    return None
