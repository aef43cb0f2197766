"""SQL for run-time settings."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.db import dialect_name, rows_affected, utcnow
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


async def put_if_absent(session: AsyncSession, key: str, value: object) -> bool:
    """Insert one setting unless it exists (``INSERT … ON CONFLICT DO NOTHING``: safe when several
    processes seed at once); True if this call inserted it."""
    insert = postgresql_insert if dialect_name(session) == "postgresql" else sqlite_insert
    statement = insert(AppSetting).values(key=key, value=value, updated_at=utcnow()).on_conflict_do_nothing()
    return rows_affected(await session.execute(statement)) == 1


async def get(session: AsyncSession, key: str) -> Any:
    """One setting's value as stored (a JSON value: text, number, list or object), or None."""
    row = await session.get(AppSetting, key)
    return row.value if row else None


async def remove(session: AsyncSession, key: str) -> None:
    """Delete one setting if present."""
    row = await session.get(AppSetting, key)
    if row is not None:
        await session.delete(row)
