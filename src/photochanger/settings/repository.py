"""SQL for run-time settings."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.db import utcnow
from photochanger.settings.models import AppSetting


async def get_all(session: AsyncSession) -> dict[str, Any]:
    """Every stored setting as ``{key: value}``."""
    rows = await session.execute(select(AppSetting.key, AppSetting.value))
    return {key: value for key, value in rows}


async def put(session: AsyncSession, key: str, value: object) -> None:
    """Insert or update one setting."""
    row = await session.get(AppSetting, key)
    if row is None:
        session.add(AppSetting(key=key, value=value, updated_at=utcnow()))
    else:
        row.value = value
        row.updated_at = utcnow()


async def get(session: AsyncSession, key: str) -> Any:
    """One setting's value as stored (a JSON value: text, number, list or object), or None."""
    row = await session.get(AppSetting, key)
    return row.value if row else None


async def remove(session: AsyncSession, key: str) -> None:
    """Delete one setting if present."""
    row = await session.get(AppSetting, key)
    if row is not None:
        await session.delete(row)
