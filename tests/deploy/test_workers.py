"""``photochanger serve --workers N``: several processes on one port and one PostgreSQL, metrics
summed across them, periodic maintenance claimed by one process per period."""

import asyncio
import re
import subprocess
import sys

import httpx
import pytest

from photochanger.db import Database
from photochanger.leases import service as leases
from photochanger.migrations import upgrade
from tests.conftest import PG_URL, PHOTOS, Service

pytestmark = pytest.mark.skipif(not PG_URL, reason="PHOTOCHANGER_TEST_POSTGRES_URL not set (workers need PostgreSQL)")


async def test_two_workers_share_the_port_and_metrics_add_up(pg_database, fake_gemini, tmp_path):
    (tmp_path / "data").mkdir()
    server = Service(pg_database, tmp_path / "data", fake_gemini, name="workers")
    await asyncio.to_thread(server.start, "--workers", "2")
    try:
        await server.slot("slot-005", "local")
        statuses = [server.post("slot-005", PHOTOS / "astronaut.jpg").status for _ in range(6)]
        assert statuses == [200] * 6
        for _ in range(3):  # whichever worker answers /metrics, it reports all six
            text = httpx.get(f"{server.base_url}/metrics").text
            done = re.search(r'photochanger_ingest_requests_total\{outcome="ok",slot="slot-005"\} (\S+)', text)
            assert done and float(done.group(1)) == 6
    finally:
        server.stop()
        await server.db.dispose()


def test_workers_are_refused_on_sqlite(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "photochanger", "serve", "--workers", "2"],
        env={"PHOTOCHANGER_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "PostgreSQL" in done.stderr


async def test_a_lease_is_held_by_one_holder_until_it_expires(pg_database):
    await asyncio.to_thread(upgrade, pg_database)
    db = Database(pg_database)
    try:
        claims = await asyncio.gather(*(leases.claim(db, "nightly", 60) for _ in range(5)))
        assert sorted(claims) == [False] * 4 + [True]  # racing claims: exactly one wins
        assert await leases.claim(db, "other", 60) is True
        assert await leases.claim(db, "short", 0) is True and await leases.claim(db, "short", 60) is True  # expired
    finally:
        await db.dispose()
