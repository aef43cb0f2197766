"""Alembic migrations, the only way the schema is created (SQLite and PostgreSQL alike)."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

SCRIPT_LOCATION = Path(__file__).parent


class MigrationFailed(RuntimeError):
    """The schema could not be migrated (the child process's output says why)."""


def alembic_config(database_url: str) -> "AlembicConfig":
    """An Alembic config for ``database_url`` (async URL) pointing at this folder."""
    from alembic.config import Config as AlembicConfig  # Alembic loads only where a migration runs

    cfg = AlembicConfig(stdout=sys.stdout)  # Alembic's default is the sys.stdout of its import time
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database to ``revision``. Must not be called from a running event loop."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def upgrade_in_child(database_url: str) -> None:
    """:func:`upgrade` to head in a short-lived child Python process, so a long-running server never
    holds Alembic and Mako in memory (about 11 MiB). Raises :class:`MigrationFailed`."""
    script = "import os; from photochanger.migrations import upgrade; upgrade(os.environ['PHOTOCHANGER_MIGRATE_URL'])"
    env = {**os.environ, "PHOTOCHANGER_MIGRATE_URL": database_url}  # not in argv: a password stays out of `ps`
    done = subprocess.run([sys.executable, "-c", script], env=env, check=False, capture_output=True, text=True)
    if done.returncode != 0:  # the last line of the child's traceback says why
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise MigrationFailed(lines[-1][:300] if lines else f"migration exited with code {done.returncode}")


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """:func:`upgrade` from async code (runs Alembic in a worker thread)."""
    await asyncio.to_thread(upgrade, database_url, revision)
