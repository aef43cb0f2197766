"""The deployment kit for real: Debian's nginx with ``deploy/nginx/photochanger.conf`` in front of
two server processes as two replicas would run — each with its own DATA_DIR (nothing on a shared
disk), one PostgreSQL, media in one S3 bucket (SeaweedFS) — driven with DSLR Remote Pro's exact
request (``Expect: 100-continue``, the 4500×3000 photo). Limits, route health and permits hold
across both; a process killed mid-photo frees its place within the lease."""

import concurrent.futures
import http.client
import secrets
import socket
import time

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.conftest import INGEST_PASSWORD, PG_URL, PHOTOS, Service, free_port, overlapping
from tests.fakes.gemini import FakeGemini
from tests.tools import booth_post, nginx
from tests.tools.nginx import Nginx
from tests.tools.processes import allowed

PASSWORD = INGEST_PASSWORD
pytestmark = [
    pytest.mark.skipif(not nginx.available(), reason="nginx is not installed (apt-get install nginx-light)"),
    pytest.mark.skipif(not PG_URL, reason="PHOTOCHANGER_TEST_POSTGRES_URL not set (two processes share PostgreSQL)"),
]


@pytest.fixture(scope="module")
def replicas(module_pg_database, fake_gemini, fake_turbotext, seaweedfs, tmp_path_factory):
    """Replicas A and B (own DATA_DIRs; one database; one bucket prefix; the same secrets from the
    environment, as replicas need) behind nginx, started once for the module; yields (A, B, nginx
    URL). The test killing a replica is the module's last."""
    tmp_path = tmp_path_factory.mktemp("replicas")
    pg_database = module_pg_database
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    shared = {
        **seaweedfs.env(),
        "PHOTOCHANGER_PUBLIC_BASE_URL": public,
        "PHOTOCHANGER_JWT_SECRET": secrets.token_urlsafe(48),
        "PHOTOCHANGER_SECRET_KEY": Fernet.generate_key().decode(),
    }
    servers = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        server = Service(pg_database, tmp_path / name, fake_gemini, name=name, turbotext_url=fake_turbotext.url)
        server.env.update(shared)
        servers.append(server)
    Service.start_together(*servers)  # both migrate the fresh database at once, as replicas do
    proxy = Nginx(tmp_path / "nginx", [s.port for s in servers], port).start()  # at the URL they were given
    yield servers[0], servers[1], public
    proxy.stop()
    for server in servers:
        server.stop()


@pytest.fixture
async def behind_nginx(replicas, fake_gemini, fake_turbotext):
    """The replicas with closed circuits, no in-flight places and the fakes' defaults."""
    fake_gemini.reset()
    fake_turbotext.reset()
    await replicas[0].reset_route_health()
    await replicas[0].setting("sync_response_seconds", 48)
    yield replicas
    fake_gemini.reset()


async def test_booth_traffic_through_nginx_to_two_processes(behind_nginx):
    a, b, public = behind_nginx
    await a.slot("slot-001", "gemini", prompt="Replace the background with a beach")
    photo = (PHOTOS / "astronaut_dslr_4500x3000.jpg").read_bytes()
    answers = []
    for _ in range(4):  # round-robin: both processes ingest
        ctype, body = booth_post.build(photo, "IMG_0001.JPG", "image/jpeg", PASSWORD, {})
        response = booth_post.post(
            f"{public}/api/ingest/slot-001", body, ctype, expect=True, headers={"X-Forwarded-For": "6.6.6.6"}
        )
        answers.append((response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()))
    assert [status for status, _, _ in answers] == [200] * 4, answers[0][2][:500]
    for _, headers, content in answers:
        assert content[:3] == b"\xff\xd8\xff" and headers["x-result-url"].startswith(f"{public}/r/")
        job = await a.job(headers["x-job-id"])
        assert job.status == "done" and job.client_ip == "127.0.0.1"  # the forged X-Forwarded-For was replaced
        for _ in range(2):  # whichever replica answers, the result is there (one bucket)
            raw = httpx.get(f"{public}/public/results/{job.id}")
            assert raw.status_code == 200 and raw.content == content
            assert httpx.get(f"{public}/public/results/{job.id}/thumbnail").status_code == 200
        for replica in (a, b):  # and each replica by itself serves what the other ingested
            assert httpx.get(f"{replica.base_url}/public/results/{job.id}").content == content
        assert httpx.get(headers["x-result-url"]).status_code == 200
    assert "ingest.done" in a.log_path.read_text() and "ingest.done" in b.log_path.read_text()  # both ingested
    assert not [p for r in (a, b) for p in r.media.rglob("*") if p.is_file()]  # nothing on a replica's disk

    too_big = b"\xff\xd8\xff" + b"\0" * (21 * 1024 * 1024)
    ctype, body = booth_post.build(too_big, "big.jpg", "image/jpeg", PASSWORD, {})
    refused = booth_post.post(f"{public}/api/ingest/slot-001", body, ctype, expect=True)
    content = refused.read()
    assert refused.status == 413 and b"payload_too_large" in content  # the app's JSON, not nginx's page
    wrong = booth_post.build((PHOTOS / "astronaut.jpg").read_bytes(), "x.jpg", "image/jpeg", "nope", {})
    assert booth_post.post(f"{public}/api/ingest/slot-001", wrong[1], wrong[0], expect=True).status == 401


async def test_turbotext_fetches_its_input_through_the_proxy_from_either_replica(behind_nginx, fake_turbotext):
    a, _b, public = behind_nginx
    await a.slot("slot-006", "turbotext", prompt="oil painting")
    fake_turbotext.reset(reconnects=0)
    for _ in range(2):  # one photo ingested by each replica
        ctype, body = booth_post.build((PHOTOS / "astronaut.jpg").read_bytes(), "x.jpg", "image/jpeg", PASSWORD, {})
        assert booth_post.post(f"{public}/api/ingest/slot-006", body, ctype, expect=True).status == 200
    assert len(fake_turbotext.queues) == 2
    for queue in fake_turbotext.queues.values():
        assert queue.fields["url"].startswith(f"{public}/public/provider-media/") and queue.fetched["url"][0] == 200


async def test_a_slot_limit_of_one_holds_across_replicas(behind_nginx, fake_gemini: FakeGemini):
    a, b, _public = behind_nginx
    await a.slot("slot-004", "gemini", prompt="Make it a comic", max_in_flight=1)
    fake_gemini.reset(latency=2.0)
    first, second = overlapping(
        lambda: a.post("slot-004"), lambda: b.post("slot-004"), started=lambda: fake_gemini.requests
    )
    assert first.status == second.status == 200
    assert (await b.job(second.headers["x-job-id"])).queue_ms >= 900  # B waited for A's place: never two at once


async def test_a_route_opened_on_one_replica_is_skipped_by_the_other(behind_nginx, fake_gemini: FakeGemini):
    a, b, _public = behind_nginx
    await a.slot("slot-010", "gemini", prompt="beach", fallbacks=[{"provider": "local", "settings": {}}])
    fake_gemini.reset(default="error_500")
    for _ in range(3):  # the failure threshold: A opens the route's circuit
        assert a.post("slot-010").status == 200  # answered by the local fallback
    asked = len(fake_gemini.requests)
    answer = b.post("slot-010")
    assert answer.status == 200 and answer.elapsed < allowed(5)
    assert len(fake_gemini.requests) == asked  # B did not send its guest into the outage
    assert (await b.job(answer.headers["x-job-id"])).fallback == "route"


async def test_trickling_strangers_and_slow_headers_through_nginx_leave_the_booth_its_answer(behind_nginx):
    a, _b, public = behind_nginx
    await a.slot("slot-001", "local")
    port = int(public.rsplit(":", 1)[1])
    photo = (PHOTOS / "astronaut.jpg").read_bytes()

    def booth() -> tuple[int, float]:
        ctype, body = booth_post.build(photo, "IMG_0001.JPG", "image/jpeg", PASSWORD, {})
        started = time.monotonic()
        response = booth_post.post(f"{public}/api/ingest/slot-001", body, ctype, expect=True, timeout=60)
        response.read()
        return response.status, time.monotonic() - started

    alone = min(booth()[1] for _ in range(3))
    held = []
    try:
        for _ in range(100):  # password-less uploads that sent one byte of their body (nginx streams it on)
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(
                b"POST /api/ingest/slot-001 HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n"
                b"Content-Length: 100000\r\n\r\n-"
            )
            held.append(sock)
        for _ in range(200):  # slowloris against nginx itself
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            held.append(sock)
        time.sleep(1.0)  # the proxy and the replicas take the connections in
        answers = [booth() for _ in range(3)]
    finally:
        for sock in held:
            sock.close()
    assert [status for status, _ in answers] == [200] * 3
    assert max(elapsed for _, elapsed in answers) < allowed(alone + 1.0), (alone, answers)


async def test_a_replica_killed_mid_photo_frees_its_place_within_the_lease(behind_nginx, fake_gemini: FakeGemini):
    a, b, _public = behind_nginx
    await a.setting("sync_response_seconds", 10)  # permit lease: deadline 10 s + 10 s margin
    await a.slot("slot-005", "gemini", prompt="Make it a comic", max_in_flight=1)
    fake_gemini.reset("hang")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        doomed = pool.submit(a.post, "slot-005")
        while not fake_gemini.requests:  # A holds the slot's only place, waiting on the provider
            time.sleep(0.05)
        started = time.monotonic()
        a.stop(kill=True)
        with pytest.raises((OSError, http.client.HTTPException)):  # the connection dies with A
            doomed.result()
    answer = b.post("slot-005")
    while answer.status != 200 and time.monotonic() - started < allowed(30):
        answer = b.post("slot-005")
    assert answer.status == 200, answer.body
    assert time.monotonic() - started <= allowed(10 + 10 + 5)  # within the lease (deadline + margin), not never
