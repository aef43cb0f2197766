"""SQL of leases: one atomic claim, safe when several processes claim at once."""

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.db import rows_affected
from photochanger.leases.models import Lease


async def claim(session: AsyncSession, name: str, holder: str, now: datetime, until: datetime) -> bool:
    """Take ``name`` until ``until`` if it is free (expired) at ``now``; True if this call got it.
    One conditional UPDATE (or the first INSERT), so exactly one of racing processes wins."""
    taken = await session.execute(
        update(Lease).where(Lease.name == name, Lease.until <= now).values(holder=holder, until=until)
    )
    if rows_affected(taken) == 1:
        return True
    try:
        async with session.begin_nested():
            session.add(Lease(name=name, holder=holder, until=until))
        return True
    except IntegrityError:
        return False  # someone holds it
