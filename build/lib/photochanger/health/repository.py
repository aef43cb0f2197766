"""SQL of the readiness checks."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def probe_write(session: AsyncSession) -> None:
    """Rewrite one settings row with its own values: proves the database takes a write (not locked
    past the busy timeout, not read-only, not out of space) without changing anything."""
    await session.execute(text("UPDATE app_settings SET key = key WHERE key = (SELECT MIN(key) FROM app_settings)"))
