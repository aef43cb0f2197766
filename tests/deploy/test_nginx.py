"""The deployment kit for real: Debian's nginx with ``deploy/nginx/photochanger.conf`` in front of
two server processes on one PostgreSQL, driven with DSLR Remote Pro's exact request
(``Expect: 100-continue``, the 4500×3000 photo)."""

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import PG_URL, PHOTOS, Service, free_port
from tests.tools import booth_post

CONFIG = Path(__file__).parents[2] / "deploy" / "nginx" / "photochanger.conf"
pytestmark = [
    pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (apt-get install nginx-light)"),
    pytest.mark.skipif(not PG_URL, reason="PHOTOCHANGER_TEST_POSTGRES_URL not set (two processes share PostgreSQL)"),
]


def _render(site: str, port: int, upstreams: list[int]) -> str:
    """The shipped site with this test's listen port and upstream processes."""
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in upstreams)
    head, _, rest = site.partition("upstream photochanger {\n")
    _, _, rest = rest.partition("    keepalive")
    site = f"{head}upstream photochanger {{\n{servers}    keepalive{rest}"
    return site.replace("listen 80;", f"listen 127.0.0.1:{port};")


@pytest.fixture
def behind_nginx(pg_database, fake_gemini, tmp_path):
    """Processes A and B (one database, one DATA_DIR) behind nginx; yields (A, B, nginx URL)."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    servers = [Service(pg_database, tmp_path / "data", fake_gemini, name=name) for name in ("a", "b")]
    (tmp_path / "data").mkdir()
    for server in servers:
        server.env["PHOTOCHANGER_PUBLIC_BASE_URL"] = public
        server.start()
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    site = _render(CONFIG.read_text(), port, [s.port for s in servers])
    (prefix / "nginx.conf").write_text(
        "daemon off; worker_processes 1; pid nginx.pid; error_log logs/error.log;\n"
        "events { worker_connections 256; }\n"
        "http { access_log logs/access.log; client_body_temp_path body; proxy_temp_path proxy;\n"
        f"{site}\n}}\n"
    )
    assert subprocess.run(["nginx", "-t", "-p", str(prefix), "-c", "nginx.conf"], capture_output=True).returncode == 0
    proxy = subprocess.Popen(["nginx", "-p", str(prefix), "-c", "nginx.conf"], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{public}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    yield servers[0], servers[1], public
    proxy.terminate()
    proxy.wait(timeout=10)
    for server in servers:
        server.stop()


async def test_booth_traffic_through_nginx_to_two_processes(behind_nginx):
    a, b, public = behind_nginx
    await a.slot("slot-001", "gemini", prompt="Replace the background with a beach")
    photo = (PHOTOS / "astronaut_dslr_4500x3000.jpg").read_bytes()
    answers = []
    for _ in range(4):  # round-robin: both processes ingest
        ctype, body = booth_post.build(photo, "IMG_0001.JPG", "image/jpeg", "booth-secret-4711", {})
        response = booth_post.post(
            f"{public}/api/ingest/slot-001", body, ctype, expect=True, headers={"X-Forwarded-For": "6.6.6.6"}
        )
        answers.append((response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()))
    assert [status for status, _, _ in answers] == [200] * 4, answers[0][2][:500]
    for _, headers, content in answers:
        assert content[:3] == b"\xff\xd8\xff" and headers["x-result-url"].startswith(f"{public}/r/")
        job = await a.job(headers["x-job-id"])
        assert job.status == "done" and job.client_ip == "127.0.0.1"  # the forged X-Forwarded-For was replaced
        for _ in range(2):  # whichever process answers, the result is there (one DATA_DIR)
            raw = httpx.get(f"{public}/public/results/{job.id}")
            assert raw.status_code == 200 and raw.content == content
        assert httpx.get(headers["x-result-url"]).status_code == 200
    assert "ingest.done" in a.log_path.read_text() and "ingest.done" in b.log_path.read_text()  # both ingested

    too_big = b"\xff\xd8\xff" + b"\0" * (21 * 1024 * 1024)
    ctype, body = booth_post.build(too_big, "big.jpg", "image/jpeg", "booth-secret-4711", {})
    refused = booth_post.post(f"{public}/api/ingest/slot-001", body, ctype, expect=True)
    content = refused.read()
    assert refused.status == 413 and b"payload_too_large" in content  # the app's JSON, not nginx's page
    wrong = booth_post.build((PHOTOS / "astronaut.jpg").read_bytes(), "x.jpg", "image/jpeg", "nope", {})
    assert booth_post.post(f"{public}/api/ingest/slot-001", wrong[1], wrong[0], expect=True).status == 401
