"""A fresh PostgreSQL database per deployment test (several processes share it)."""

import uuid

import asyncpg
import pytest
from sqlalchemy import make_url

from tests.conftest import PG_URL


@pytest.fixture
async def pg_database():
    """An empty database on the test PostgreSQL, dropped afterwards."""
    name = f"photochanger_deploy_{uuid.uuid4().hex[:10]}"
    admin = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()
