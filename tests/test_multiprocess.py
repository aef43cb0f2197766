"""Two server processes behind one load balancer share all state through PostgreSQL: sessions,
login throttling, settings and gallery sharing (SQLite serves one process: a second is refused)."""

import asyncio
import json
import uuid

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, INGEST_PASSWORD, PG_URL, Service
from tests.tools.postgres import fresh_database

pytestmark = pytest.mark.served  # several server processes on one database


@pytest.fixture(scope="module")
async def twin(server, fake_gemini):
    """A second process on the same database and DATA_DIR (shared keys and media). PostgreSQL only:
    a second server on a SQLite file is refused (tests/test_database_faults.py)."""
    if server.database_url.startswith("sqlite"):
        pytest.skip("one server per SQLite file: a second one is refused at start")
    other = Service(
        server.database_url,
        server.data_dir,
        fake_gemini,
        name="twin",
        openai_url=server.env["PHOTOCHANGER_OPENAI_BASE_URL"],
    )
    await asyncio.to_thread(other.start)
    yield other
    other.stop()
    await other.db.dispose()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_token_and_logout_hold_across_processes(server, twin):
    token = server.login(ADMIN_USER, ADMIN_PASSWORD).json()["access_token"]
    assert httpx.get(f"{twin.base_url}/api/slots", headers=_auth(token)).status_code == 200
    assert httpx.post(f"{twin.base_url}/api/logout", headers=_auth(token)).status_code == 204
    assert httpx.get(f"{server.base_url}/api/slots", headers=_auth(token)).status_code == 401


async def test_login_throttling_counts_failures_on_both_processes(server, twin):
    user = f"t{uuid.uuid4().hex[:8]}"
    server.cli("admin", "create", user, "--password", "right-password-3")
    for n in range(10):
        target = server if n % 2 else twin
        assert target.login(user, "wrong", ip="10.4.4.4").status_code == 401
    assert server.login(user, "right-password-3", ip="10.4.4.4").status_code == 429
    assert twin.login(user, "right-password-3", ip="10.4.4.4").status_code == 429


async def test_settings_and_gallery_sharing_apply_to_both_processes(svc, twin):
    await svc.slot("slot-001", "local")
    try:
        svc.api.put("/api/settings", json={"ingest_password": "twin-rotated-1"})
        assert twin.post("slot-001").status == 401
        assert twin.post("slot-001", password="twin-rotated-1").status == 200
    finally:
        svc.api.put("/api/settings", json={"ingest_password": INGEST_PASSWORD})
    assert svc.api.post("/api/gallery/share", json={"minutes": 2, "include_earlier": True}).status_code == 200
    listed = httpx.get(f"{twin.base_url}/api/public/gallery")
    assert listed.status_code == 200 and listed.json()["items"]  # the twin's listing is now cached
    first = listed.json()["items"][0]["result_url"].rsplit("/", 1)[-1]
    hidden = svc.api.patch(f"/api/jobs/{first}", json={"hidden": True})
    assert hidden.status_code in (200, 204), hidden.text
    relisted = httpx.get(f"{twin.base_url}/api/public/gallery").json()["items"]
    assert first not in {item["result_url"].rsplit("/", 1)[-1] for item in relisted}  # at once, not after 30 s
    svc.api.patch(f"/api/jobs/{first}", json={"hidden": False})
    token = twin.login(ADMIN_USER, ADMIN_PASSWORD).json()["access_token"]
    assert httpx.delete(f"{twin.base_url}/api/gallery/share", headers=_auth(token)).status_code == 204
    assert httpx.get(f"{svc.base_url}/api/public/gallery").status_code == 403


@pytest.mark.skipif(not PG_URL, reason="PHOTOCHANGER_TEST_POSTGRES_URL not set (replicas share PostgreSQL)")
async def test_replicas_starting_together_on_an_empty_database_both_serve(fake_gemini, tmp_path):
    """Both migrate and seed the fresh database at once (an orchestrator starts replicas together):
    one migrates under the advisory lock, the other finds the schema at head; one seed is kept."""
    async with fresh_database(PG_URL, "photochanger_replicas") as url:
        servers = [Service(url, tmp_path / name, fake_gemini, name=name) for name in ("a", "b")]
        for server in servers:
            server.data_dir.mkdir()
        await asyncio.to_thread(Service.start_together, *servers)
        try:
            shown = [json.loads(server.cli("settings", "show").stdout) for server in servers]
            assert shown[0] == shown[1] and shown[0]["ingest_password"] == INGEST_PASSWORD
            assert all(httpx.get(f"{s.base_url}/readyz").status_code == 200 for s in servers)
        finally:
            for server in servers:
                server.stop()
                await server.db.dispose()


async def test_a_late_job_of_a_killed_process_is_finished_by_the_other_and_no_call_is_unrecorded(svc, fake_gemini):
    """Late delivery across replicas: the process making a late AI photo dies (``kill -9``); once
    its lease lapses (3 s in tests) the other takes the job over, calls again and delivers it."""
    if svc.database_url.startswith("sqlite"):
        pytest.skip("one server per SQLite file")
    doomed = Service(svc.database_url, svc.data_dir, fake_gemini, name="doomed")
    await asyncio.to_thread(doomed.start)
    await svc.setting("sync_response_seconds", 10)
    await svc.slot("slot-013", "gemini", prompt="A sunny beach", on_failure="original", late_delivery_minutes=2)
    try:
        fake_gemini.reset(latency=60)  # still in flight when its process dies
        r = await asyncio.to_thread(doomed.post, "slot-013")
        assert r.status == 200 and r.headers["x-photochanger-late"] == "continuing"
        job_id = r.headers["x-job-id"]
        doomed.stop(kill=True)
        fake_gemini.latency = 0.5
        for _ in range(200):
            job = await svc.job(job_id)
            if job.late_state != "continuing":
                break
            await asyncio.sleep(0.1)
        assert job.late_state == "delivered" and job.status == "done"
        attempts = await svc.attempts(job_id)
        assert [a.outcome for a in attempts] == ["interrupted", "success"]
        assert len(fake_gemini.requests) == len(attempts)  # one call per recorded attempt: none billed unseen
        assert httpx.get(f"{svc.base_url}/public/results/{job_id}/status").json()["state"] == "ready"
    finally:
        doomed.stop(kill=True)
        await doomed.db.dispose()
        await svc.slot("slot-013")
