"""Alembic migrations, the only way the schema is created (SQLite and PostgreSQL alike)."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

SCRIPT_LOCATION = Path(__file__).parent


def alembic_config(database_url: str) -> AlembicConfig:
    """An Alembic config for ``database_url`` (async URL) pointing at this folder."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database to ``revision``. Must not be called from a running event loop."""
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """:func:`upgrade` from async code (runs Alembic in a worker thread)."""
    await asyncio.to_thread(upgrade, database_url, revision)
