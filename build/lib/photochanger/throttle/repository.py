"""SQL of the database-backed throttle windows (:class:`photochanger.throttle.service.DatabaseWindow`)."""

from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.db import dialect_name, rows_affected
from photochanger.throttle.models import ThrottleEvent


async def lock(session: AsyncSession, scope: str, key: str) -> None:
    """Serialise the counting of one key until the transaction ends (a PostgreSQL advisory lock;
    SQLite has a single writer), so concurrent reservations count each other."""
    if dialect_name(session) == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"{scope}:{key}"})


async def times(session: AsyncSession, scope: str, key: str, since: datetime, until: datetime) -> list[datetime]:
    """Times of the events of ``key`` from ``since`` to ``until``, oldest first. Events dated after
    ``until`` (recorded before the clock was stepped back) are not counted, so a refusal never
    outlasts its ``Retry-After``."""
    query = select(ThrottleEvent.at).where(
        ThrottleEvent.scope == scope, ThrottleEvent.key == key, ThrottleEvent.at >= since, ThrottleEvent.at <= until
    )
    return list(await session.scalars(query.order_by(ThrottleEvent.at)))


async def add(session: AsyncSession, scope: str, key: str, at: datetime) -> None:
    """Count one event of ``key`` at ``at``."""
    session.add(ThrottleEvent(scope=scope, key=key, at=at))


async def remove_latest(session: AsyncSession, scope: str, key: str) -> None:
    """Forget the most recent event of ``key`` (none: nothing happens)."""
    latest = select(func.max(ThrottleEvent.id)).where(ThrottleEvent.scope == scope, ThrottleEvent.key == key)
    await session.execute(delete(ThrottleEvent).where(ThrottleEvent.id == latest.scalar_subquery()))


async def prune(session: AsyncSession, scope: str, before: datetime) -> int:
    """Forget the events of ``scope`` older than ``before``; returns how many."""
    result = await session.execute(delete(ThrottleEvent).where(ThrottleEvent.scope == scope, ThrottleEvent.at < before))
    return rows_affected(result)
