"""SQL of the spend caps: reservations as conditional UPDATEs, so racing processes never pass a cap."""

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.db import rows_affected
from photochanger.spend.models import SpendTotal

TOTALS = cast(Table, SpendTotal.__table__)
SLACK_USD = 1e-9  # float sums: a reservation that lands exactly on the cap fits


async def ensure(session: AsyncSession, scope: str) -> None:
    """The scope's row exists (inserted at 0 by the first process that needs it)."""
    if await session.get(SpendTotal, scope) is None:
        try:
            async with session.begin_nested():
                session.add(SpendTotal(scope=scope, spent_usd=0.0, reserved_usd=0.0))
        except IntegrityError:
            pass  # another process inserted it first


async def reserve(session: AsyncSession, scope: str, amount: float, cap: float) -> bool:
    """Add ``amount`` to the scope's reservations if spent + reserved + amount stays within ``cap``
    (one conditional UPDATE: the row lock orders racing processes, the condition is rechecked)."""
    fits = TOTALS.c.spent_usd + TOTALS.c.reserved_usd + amount <= cap + SLACK_USD
    result = await session.execute(
        update(TOTALS).where(TOTALS.c.scope == scope, fits).values(reserved_usd=TOTALS.c.reserved_usd + amount)
    )
    if rows_affected(result) == 1:
        return True
    await session.execute(update(TOTALS).where(TOTALS.c.scope == scope).values(refused_at_cap=cap))
    return False


async def settle(session: AsyncSession, scope: str, reserved: float, spent: float) -> None:
    """Turn a reservation of ``reserved`` into ``spent`` (0: nothing was billed)."""
    await session.execute(
        update(TOTALS)
        .where(TOTALS.c.scope == scope)
        .values(reserved_usd=TOTALS.c.reserved_usd - reserved, spent_usd=TOTALS.c.spent_usd + spent)
    )


async def claim_warning(session: AsyncSession, scope: str, threshold: float, now: datetime) -> bool:
    """Mark the scope warned if its spent + reserved reached ``threshold`` and it was not yet
    warned; True for the one call that did (the warning goes out once)."""
    result = await session.execute(
        update(TOTALS)
        .where(
            TOTALS.c.scope == scope,
            TOTALS.c.warned_at.is_(None),
            TOTALS.c.spent_usd + TOTALS.c.reserved_usd >= threshold,
        )
        .values(warned_at=now)
    )
    return rows_affected(result) == 1


async def totals(session: AsyncSession, scopes: Sequence[str]) -> list[SpendTotal]:
    """The rows of ``scopes`` that exist."""
    return list(await session.scalars(select(SpendTotal).where(SpendTotal.scope.in_(scopes))))
