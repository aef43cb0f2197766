"""SQL of webhook deliveries."""

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.webhooks.models import WebhookDelivery

DELIVERIES = cast(Table, WebhookDelivery.__table__)


async def add(session: AsyncSession, rows: Sequence[dict]) -> None:
    """Insert delivery rows (column → value each)."""
    if rows:
        await session.execute(insert(DELIVERIES), list(rows))


async def any_due(session: AsyncSession, now: datetime) -> bool:
    """Whether a pending delivery is due at ``now`` (a read: the sender's idle check writes nothing)."""
    query = select(DELIVERIES.c.id).where(DELIVERIES.c.state == "pending", DELIVERIES.c.next_attempt_at <= now)
    return (await session.scalar(query.limit(1))) is not None


async def claim_due(session: AsyncSession, now: datetime, until: datetime, limit: int) -> list[WebhookDelivery]:
    """Take at most ``limit`` pending deliveries due at ``now`` (no live lease) until ``until``,
    oldest first; PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so no two processes send one at once."""
    due = (
        select(DELIVERIES.c.id)
        .where(
            DELIVERIES.c.state == "pending",
            DELIVERIES.c.next_attempt_at <= now,
            or_(DELIVERIES.c.lease_until.is_(None), DELIVERIES.c.lease_until < now),
        )
        .order_by(DELIVERIES.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(await session.scalars(due))
    if not ids:
        return []
    await session.execute(update(DELIVERIES).where(DELIVERIES.c.id.in_(ids)).values(lease_until=until))
    rows = await session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
    return sorted(rows, key=lambda row: row.next_attempt_at)


async def record(session: AsyncSession, delivery_id: str, values: dict) -> None:
    """Set ``values`` on one delivery (its outcome, next attempt; the lease given back)."""
    await session.execute(update(DELIVERIES).where(DELIVERIES.c.id == delivery_id).values(lease_until=None, **values))


async def recent(session: AsyncSession, limit: int) -> list[WebhookDelivery]:
    """The newest deliveries first."""
    query = select(WebhookDelivery).order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).limit(limit)
    return list(await session.scalars(query))


async def get(session: AsyncSession, delivery_id: str) -> WebhookDelivery | None:
    """One delivery, or None."""
    return await session.get(WebhookDelivery, delivery_id)
