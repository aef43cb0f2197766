"""The database on a bad day: stopped, restarted under booths, text it refuses, a SQLite file
deleted or overwritten while serving. Every answer is a clean 503 ``storage_unavailable`` (never a
bare 500), and no job row is left ``pending`` once the database is back."""

import asyncio
import concurrent.futures
import shutil
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from photochanger.auth import service as auth_service
from photochanger.jobs.models import Job
from tests.conftest import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    MINIMAL_HASHER,
    PG_URL,
    PHOTOS,
    InProcessService,
    Service,
    free_port,
)
from tests.tools.postgres import PrivateCluster

served = pytest.mark.served  # the server process beside a PostgreSQL that stops or restarts

PHOTO = PHOTOS / "astronaut.jpg"
needs_postgres = pytest.mark.skipif(not PG_URL, reason="PHOTOCHANGER_TEST_POSTGRES_URL not set (needs PostgreSQL)")


def _storage_unavailable(response: httpx.Response) -> bool:
    return response.status_code == 503 and response.json()["failure_reason"] == "storage_unavailable"


async def _pending(service: Service) -> int:
    async with service.db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(Job).where(Job.status == "pending"))


async def _wait_no_pending(service: Service, within: float = 20.0) -> int:
    """Pending rows left once the server has had ``within`` seconds to write what it kept."""
    for _ in range(int(within / 0.3)):
        if not (left := await _pending(service)):
            return 0
        await asyncio.sleep(0.3)
    return left


@pytest.fixture
def cluster():
    folder = Path(tempfile.mkdtemp(prefix="photochanger-pg-"))  # not in pytest's 0700 tmp: the server user reads it
    folder.chmod(0o755)
    own = PrivateCluster(folder / "cluster", free_port())
    if not PG_URL or own.bindir is None:
        pytest.skip("needs PostgreSQL's server binaries (scripts/start-test-postgres installs them)")
    own.start()
    yield own
    if (own.directory / "data" / "postmaster.pid").exists():
        own.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def on_own_postgres(cluster, tmp_path, fake_gemini):
    (tmp_path / "data").mkdir()
    service = Service(cluster.url, tmp_path / "data", fake_gemini)
    await asyncio.to_thread(service.start)
    await auth_service.create_admin(service.db, ADMIN_USER, ADMIN_PASSWORD, MINIMAL_HASHER)
    await service.slot("slot-001", "local")
    yield service
    service.stop()
    await service.db.dispose()


@needs_postgres
@served
async def test_postgres_stopped_gives_503_on_every_route_and_recovers(cluster, on_own_postgres):
    svc = on_own_postgres
    token = svc.login(ADMIN_USER, ADMIN_PASSWORD).json()["access_token"]
    await asyncio.to_thread(cluster.stop)
    booth = svc.post("slot-001", PHOTO)
    assert booth.status == 503 and booth.json()["failure_reason"] == "storage_unavailable", booth.body[:300]
    assert booth.headers["retry-after"] == "30" and booth.json()["job_id"] is None  # no row could be written
    assert _storage_unavailable(svc.login(ADMIN_USER, ADMIN_PASSWORD))
    assert _storage_unavailable(svc.http.get("/api/public/gallery", timeout=30))
    jobs = httpx.get(f"{svc.base_url}/api/jobs", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert _storage_unavailable(jobs)
    assert svc.http.get("/readyz", timeout=30).status_code == 503
    await asyncio.to_thread(cluster.start)
    assert svc.post("slot-001", PHOTO).status == 200
    assert svc.login(ADMIN_USER, ADMIN_PASSWORD).status_code == 200


@needs_postgres
@served
async def test_postgres_restarted_under_four_booths_leaves_no_500_and_no_pending_row(cluster, on_own_postgres):
    svc = on_own_postgres
    stop_at = time.monotonic() + 8

    def booth() -> list[int]:
        statuses = []
        while time.monotonic() < stop_at:
            answer = svc.post("slot-001", PHOTO)
            statuses.append(answer.status)
            assert answer.status == 200 or answer.json()["failure_reason"] == "storage_unavailable", answer.body[:300]
        return statuses

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        booths = [pool.submit(booth) for _ in range(4)]
        await asyncio.sleep(2)
        await asyncio.to_thread(cluster.restart)
        statuses = [status for done in booths for status in done.result()]
    assert 500 not in statuses and statuses.count(200) > 4, statuses
    assert await _wait_no_pending(svc) == 0


async def test_a_provider_message_with_nul_finishes_the_job_without_it(svc, fake_gemini):
    await svc.slot("slot-002", "gemini", prompt="make it blue")
    fake_gemini.reset(default="error_nul")
    r = svc.post("slot-002", PHOTO)
    assert r.status in (502, 422), r.body[:300]
    job = await svc.job(r.json()["job_id"])
    assert job.status == "failed" and "\x00" not in (job.failure_detail or "")
    changed = svc.api.put("/api/slots/slot-003", json={"display_name": "a\u0000b"})
    assert changed.status_code == 200 and changed.json()["display_name"] == "ab"


@pytest.fixture
async def on_own_sqlite(request, tmp_path, fake_gemini):
    """The service (in process; the real server where a test says ``served``) on an SQLite file of its own."""
    kind = Service if request.node.get_closest_marker("served") else InProcessService
    (tmp_path / "data").mkdir()
    service = kind(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'photochanger.db'}", tmp_path / "data", fake_gemini)
    await asyncio.to_thread(service.start)
    await auth_service.create_admin(service.db, ADMIN_USER, ADMIN_PASSWORD, MINIMAL_HASHER)
    await service.slot("slot-001", "local")
    await service.db.dispose()  # the test's own connections must not keep the old file open
    yield service
    service.stop()


async def test_a_deleted_sqlite_file_stops_the_photos_and_readiness(on_own_sqlite):
    svc = on_own_sqlite
    assert svc.post("slot-001", PHOTO).status == 200
    database = svc.data_dir / "photochanger.db"
    for name in ("photochanger.db", "photochanger.db-wal", "photochanger.db-shm"):
        (svc.data_dir / name).unlink(missing_ok=True)
    booth = svc.post("slot-001", PHOTO)
    assert booth.status == 503 and booth.json()["failure_reason"] == "storage_unavailable", booth.body[:300]
    ready = svc.http.get("/readyz", timeout=30)
    assert ready.status_code == 503 and ready.json()["checks"]["database"] != "ok"
    assert _storage_unavailable(svc.login(ADMIN_USER, ADMIN_PASSWORD))
    assert not database.exists() or database.stat().st_size == 0
    assert "database.file_replaced" in svc.log_path.read_text()


async def test_a_replaced_sqlite_file_answers_503(on_own_sqlite, tmp_path):
    svc = on_own_sqlite
    database = svc.data_dir / "photochanger.db"
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\x13" * 200_000)
    shutil.move(garbage, database)  # a new file at the path (as a restore or a mistaken copy does)
    booth = svc.post("slot-001", PHOTO)
    assert booth.status == 503 and booth.json()["failure_reason"] == "storage_unavailable"
    assert _storage_unavailable(svc.login(ADMIN_USER, ADMIN_PASSWORD))
    assert _storage_unavailable(svc.http.get("/api/public/gallery", timeout=30))
    assert svc.http.get("/readyz", timeout=30).status_code == 503


@served  # pages the server already read stay in its connections' caches and WAL until it reads others
async def test_an_overwritten_sqlite_file_answers_503(on_own_sqlite):
    svc = on_own_sqlite
    database = svc.data_dir / "photochanger.db"
    with database.open("r+b") as file:  # the same file, its pages garbage
        file.write(b"\x13" * database.stat().st_size)
    (svc.data_dir / "photochanger.db-wal").unlink(missing_ok=True)
    assert _storage_unavailable(svc.login(ADMIN_USER, ADMIN_PASSWORD))
    assert _storage_unavailable(svc.http.get("/api/public/gallery", timeout=30))
    booth = svc.post("slot-001", PHOTO)
    assert booth.status == 503 and booth.json()["failure_reason"] == "storage_unavailable", booth.body[:300]


@served  # the lock taken by `photochanger serve`
async def test_a_second_server_on_the_same_sqlite_file_is_refused(on_own_sqlite):
    second = on_own_sqlite.cli_process("serve", "--port", str(free_port()))
    assert second.returncode == 2 and "another photochanger server already serves" in second.stderr, second.stderr
    assert "Traceback" not in second.stderr
    assert on_own_sqlite.post("slot-001", PHOTO).status == 200  # the first one serves on
