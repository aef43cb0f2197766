"""A throw-away database on a PostgreSQL server (tests and benchmarks)."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import make_url


@asynccontextmanager
async def fresh_database(server_url: str, prefix: str = "photochanger_test") -> AsyncIterator[str]:
    """A new, empty database on the server of ``server_url`` (SQLAlchemy async URL); yields its URL
    and drops it (``WITH (FORCE)``) on exit."""
    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(make_url(server_url).set(drivername="postgresql").render_as_string(False))
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
