"""A stranger with no password and no token, against a real ``photochanger serve``: trickling
uploads, slowloris, huge headers and bodies, floods of guesses. Every case asserts that a booth
with the right password is still answered, and that the stranger gets a clean 4xx (never a 5xx)
and costs no job row. Its own server (SQLite), with small gates so the limits are reached fast."""

import asyncio
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from photochanger.auth import service as auth_service
from photochanger.jobs.models import Job
from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, INGEST_PASSWORD, MINIMAL_HASHER, PHOTOS, Service

SLOT = "slot-001"
PHOTO = (PHOTOS / "astronaut.jpg").read_bytes()


@pytest.fixture(scope="module")
async def edge(fake_gemini, tmp_path_factory):
    data = tmp_path_factory.mktemp("edge")
    server = Service(f"sqlite+aiosqlite:///{data / 'photochanger.db'}", data, fake_gemini, name="edge")
    server.env.update(
        {
            "PHOTOCHANGER_MAX_UNAUTHENTICATED_UPLOADS": "16",
            "PHOTOCHANGER_MAX_CONNECTIONS_READING_HEADERS": "64",
            "PHOTOCHANGER_INGEST_PASSWORD_FAILURES": "20",
        }
    )
    await asyncio.to_thread(server.start)
    await auth_service.create_admin(server.db, ADMIN_USER, ADMIN_PASSWORD, MINIMAL_HASHER)
    await server.slot(SLOT, "local")
    yield server
    server.stop()
    await server.db.dispose()


def _connect(server: Service) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.settimeout(30)
    return sock


def _answer(sock: socket.socket) -> bytes:
    """What the server sends until it closes (or 64 kB)."""
    answer = b""
    try:
        while len(answer) < 65536:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
            if b"\r\n\r\n" in answer and answer.rstrip().endswith((b"}", b")")):
                break
    except (ConnectionResetError, TimeoutError):
        pass
    return answer


def _settle(server: Service, within: float = 0.1) -> None:
    """Wait (at most 15 s) until the server answers ``/healthz`` within ``within`` seconds twice in a
    row: it has taken in the connections just opened."""
    quick, end = 0, time.monotonic() + 15
    while quick < 2 and time.monotonic() < end:
        started = time.monotonic()
        httpx.get(f"{server.base_url}/healthz", timeout=15)
        quick = quick + 1 if time.monotonic() - started < within else 0


async def _job_rows(server: Service) -> int:
    async with server.db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(Job))


async def test_trickling_uploads_and_slow_headers_do_not_keep_a_booth_out(edge):
    alone = min(edge.post(SLOT).elapsed for _ in range(3))
    ctype = "multipart/form-data; boundary=XyZ"
    held = []
    try:
        for _ in range(200):  # password-less uploads that have sent one byte of their body
            sock = _connect(edge)
            sock.sendall(
                f"POST /api/ingest/{SLOT} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: 100000\r\n\r\n-".encode()
            )
            held.append(sock)
        for _ in range(300):  # slowloris: a request line and one header, then nothing
            sock = _connect(edge)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            held.append(sock)
        _settle(edge)  # the server takes the 500 connections in (a burst, not the state under test)
        booth = [edge.post(SLOT) for _ in range(3)]
        assert [r.status for r in booth] == [200] * 3
        assert sorted(r.elapsed for r in booth)[1] < alone + 1.0, [r.elapsed for r in booth]
        assert max(r.elapsed for r in booth) < alone + 5.0, [r.elapsed for r in booth]
        evicted = _answer(held[-300])  # the oldest slow-header connection made way for newer ones
        assert evicted.startswith(b"HTTP/1.1 408")
        trickler = _answer(held[0])  # and the oldest trickling upload for a newer one
        assert trickler.startswith(b"HTTP/1.1 503") and b"server_busy" in trickler
    finally:
        for sock in held:
            sock.close()
    assert await _job_rows(edge) == 3 + 3  # no row for any stranger


def test_a_header_over_the_limit_is_431_at_once_and_two_hosts_are_400(edge):
    with _connect(edge) as sock:
        # 80 KiB: over the 64 KiB limit, yet within the sockets' buffers, so the server reads it all
        # before it answers and closes (megabytes left unread would make its close a reset)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (80 * 1024))
        assert _answer(sock).startswith(b"HTTP/1.1 431")
    with _connect(edge) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        assert _answer(sock).startswith(b"HTTP/1.1 400")
    assert httpx.get(f"{edge.base_url}/healthz").status_code == 200


def _declared(server: Service, method: str, path: str, length: int, extra: str = "") -> bytes:
    """Send only the head of a request declaring ``length`` bytes of JSON; the server's answer."""
    with _connect(server) as sock:
        sock.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}"
            f"Content-Length: {length}\r\n\r\n".encode()
        )
        return _answer(sock)


def test_huge_bodies_are_refused_from_their_headers_and_tokens_come_before_bodies(edge):
    login = _declared(edge, "POST", "/api/login", 200 * 1024 * 1024)
    assert login.startswith(b"HTTP/1.1 413") and b"payload_too_large" in login
    slot = _declared(edge, "PUT", f"/api/slots/{SLOT}", 200 * 1024 * 1024)
    assert slot.startswith(b"HTTP/1.1 401") and b"unauthorized" in slot
    forged = _declared(edge, "PUT", f"/api/slots/{SLOT}", 10, "Authorization: Bearer not.a.token\r\n")
    assert forged.startswith(b"HTTP/1.1 401")
    token = edge.login(ADMIN_USER, ADMIN_PASSWORD).json()["access_token"]
    big = _declared(edge, "PUT", f"/api/slots/{SLOT}", 200 * 1024 * 1024, f"Authorization: Bearer {token}\r\n")
    assert big.startswith(b"HTTP/1.1 413")


def test_a_chunked_body_is_counted_while_it_streams(edge):
    def endless():
        chunk = b'{"username": "' + b"a" * 65536
        for _ in range(4000):  # 256 MB if nobody stopped it
            yield chunk

    with _maybe_closed():
        r = httpx.post(f"{edge.base_url}/api/login", content=endless(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and r.json()["failure_reason"] == "payload_too_large"


class _maybe_closed:
    """The server may close the connection while the client still sends: either answer is a refusal."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        return kind is not None and issubclass(kind, (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError))


def _multipart(parts: list[tuple[str, bytes]], boundary: str) -> bytes:
    body = b""
    for name, data in parts:
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def test_an_overlong_boundary_is_400_and_an_endless_ignored_part_is_413(edge):
    boundary = "b" * 300
    body = _multipart([("password", INGEST_PASSWORD.encode())], boundary)
    r = httpx.post(
        f"{edge.base_url}/api/ingest/{SLOT}",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 400 and r.json()["failure_reason"] == "invalid_request"

    def endless():
        yield b'--XyZ\r\nContent-Disposition: form-data; name="other"; filename="x.bin"\r\n\r\n'
        for _ in range(6000):  # 390 MB if nobody stopped it
            yield b"\0" * 65536

    with _maybe_closed():
        r = httpx.post(
            f"{edge.base_url}/api/ingest/{SLOT}",
            content=endless(),
            headers={"Content-Type": "multipart/form-data; boundary=XyZ"},
            timeout=60,
        )
        assert r.status_code == 413 and r.json()["failure_reason"] == "payload_too_large"


def test_deeply_nested_json_in_a_test_run_is_422(edge):
    token = edge.login(ADMIN_USER, ADMIN_PASSWORD).json()["access_token"]
    nested = "[" * 100_000 + "]" * 100_000
    for field in ("sample_fields", "slot_payload"):
        r = httpx.post(
            f"{edge.base_url}/api/slots/{SLOT}/test-run",
            headers={"Authorization": f"Bearer {token}"},
            files={"test_image": ("t.jpg", PHOTO, "image/jpeg")},
            data={field: nested},
            timeout=30,
        )
        assert r.status_code == 422, (field, r.text)


async def test_a_guessing_flood_from_a_studios_address_checks_at_most_20_and_spares_its_booths(edge):
    studio = "198.51.100.77"
    rows = await _job_rows(edge)
    assert edge.post(SLOT, client_ip=studio).status == 200  # the studio's booth, before the flood

    def guess(n: int) -> int:
        return edge.post(SLOT, password=f"guess-{n:04d}", client_ip=studio).status

    with ThreadPoolExecutor(60) as pool:
        flood = pool.map(guess, range(120))
        booth = [edge.post(SLOT, client_ip=studio) for _ in range(3)]  # the right password, during the flood
        codes = list(flood)
    assert codes.count(401) <= 20 and set(codes) <= {401, 429}
    assert [r.status for r in booth] == [200] * 3
    assert await _job_rows(edge) == rows + 4  # the booth's photos only
    refused = edge.api.get("/api/ingest/refused").json()
    mine = {r["failure_reason"]: r["count"] for r in refused if r["client_ip"] == studio}
    assert mine.get("invalid_password", 0) + mine.get("rate_limited", 0) == 120


def test_logins_and_gallery_polls_beside_booths_write_nothing_and_never_fail(edge):
    assert edge.api.post("/api/gallery/share", json={"minutes": 5}).status_code == 200

    def login(n: int) -> int:
        return edge.login(f"nobody{n}", "x" * 12, ip=f"10.20.0.{n % 10}").status_code

    def poll(n: int) -> int:
        headers = {"X-Forwarded-For": f"10.21.0.{n % 10}"}
        return httpx.get(f"{edge.base_url}/api/public/gallery", headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(30) as pool:
        logins = pool.map(login, range(60))  # each an argon2 check (~0.1 s of CPU): 60 make the point
        polls = pool.map(poll, range(400))
        booth = [edge.post(SLOT) for _ in range(4)]
        codes = list(logins) + list(polls)
    assert [r.status for r in booth] == [200] * 4
    assert set(codes) <= {200, 401, 429}, sorted(set(codes))


def test_the_gallery_pin_takes_ascii_digits_and_locks_after_guesses_from_every_address(edge):
    arabic = edge.api.post("/api/gallery/share", json={"minutes": 5, "pin": "١٢٣٤"})
    assert arabic.status_code == 422
    assert edge.api.post("/api/gallery/share", json={"minutes": 5, "pin": "482913"}).status_code == 200

    def guess(n: int) -> httpx.Response:
        headers = {"X-Forwarded-For": f"10.30.{n // 250}.{n % 250}", "X-Gallery-Pin": f"{n:06d}"}
        return httpx.get(f"{edge.base_url}/api/public/gallery", headers=headers, timeout=30)

    codes = [guess(n).status_code for n in range(40)]
    assert codes[:30] == [401] * 30 and set(codes[30:]) == {429}
    right = httpx.get(f"{edge.base_url}/api/public/gallery", headers={"X-Gallery-Pin": "482913"})
    assert right.status_code == 429 and right.json()["failure_reason"] == "pin_locked"
    assert edge.api.get("/api/gallery/share").json()["pin_locked"] is True
    assert edge.api.post("/api/gallery/share", json={"minutes": 5, "pin": "775533"}).status_code == 200
    fresh = httpx.get(f"{edge.base_url}/api/public/gallery", headers={"X-Gallery-Pin": "775533"})
    assert fresh.status_code == 200
    edge.api.delete("/api/gallery/share")
