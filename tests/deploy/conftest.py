"""A fresh PostgreSQL database per deployment test, or per module (several processes share it)."""

import pytest

from tests.conftest import PG_URL
from tests.tools.postgres import fresh_database


@pytest.fixture
async def pg_database():
    """An empty database on the test PostgreSQL, dropped afterwards."""
    async with fresh_database(PG_URL, "photochanger_deploy") as url:
        yield url


@pytest.fixture(scope="module")
async def module_pg_database():
    """An empty database on the test PostgreSQL for one module's tests, dropped afterwards."""
    async with fresh_database(PG_URL, "photochanger_deploy") as url:
        yield url
