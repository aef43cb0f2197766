"""The app in the test process: its lifespan on an event loop of its own thread, requests handed to
``httpx.ASGITransport`` on that loop. No server process and no sockets; the middleware stack, the
lifespan's background work and the database are the real ones.

Tests keep calling it synchronously (``client.get(...)`` from a test's own loop, as they call a
server subprocess): each request is run on the app's loop with ``asyncio.run_coroutine_threadsafe``.
"""

import asyncio
import threading
from collections.abc import Awaitable, Callable

import httpx
from asgi_lifespan import LifespanManager
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

CHUNK_BYTES = 65536  # the body reaches the app in pieces of this size, as uvicorn reads a socket
REQUEST_TIMEOUT_SECONDS = 120.0  # the longest booth deadline (60 s) and a test's own waits beyond it
CLIENT = ("127.0.0.1", 51234)  # the peer address the app sees (loopback, as with a local server)


class AppThread:
    """``start()`` runs ``app``'s startup on a new thread's loop and returns once it is serving;
    ``transport`` is a synchronous httpx transport to it; ``stop()`` runs the shutdown.

    ``trusted_proxies`` (comma-separated addresses) get ``X-Forwarded-For`` honoured, as
    ``photochanger serve`` configures uvicorn's proxy headers from ``PHOTOCHANGER_FORWARDED_ALLOW_IPS``."""

    def __init__(self, app, trusted_proxies: str = "") -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies
        self.loop: asyncio.AbstractEventLoop | None = None
        self._asgi: httpx.ASGITransport | None = None
        self._serving = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="app-under-test", daemon=True)

    def start(self, timeout: float = 60.0) -> "AppThread":
        self._thread.start()
        if not self._serving.wait(timeout):
            raise RuntimeError(f"the app did not start in {timeout} s")
        if self._error is not None:
            raise self._error
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self.loop is not None and self._stop is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    def call(self, make: Callable[[], Awaitable], timeout: float = REQUEST_TIMEOUT_SECONDS):
        """Run the coroutine ``make()`` on the app's loop and return its result (blocking)."""
        assert self.loop is not None, "start() first"
        return asyncio.run_coroutine_threadsafe(make(), self.loop).result(timeout)  # type: ignore[arg-type]

    @property
    def transport(self) -> httpx.BaseTransport:
        return _ThreadTransport(self)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported by start(); a failed shutdown is the test's to see in the log
            self._error = self._error or error
            self._serving.set()

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with LifespanManager(self.app, startup_timeout=60, shutdown_timeout=30) as manager:
            app = manager.app
            if self.trusted_proxies:
                app = ProxyHeadersMiddleware(app, trusted_hosts=self.trusted_proxies)
            self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=CLIENT)  # type: ignore[arg-type]
            self._serving.set()
            await self._stop.wait()


class _ThreadTransport(httpx.BaseTransport):
    """A synchronous transport that sends each request through ``httpx.ASGITransport`` on the app's
    loop; the answer's bytes come back raw (any ``Content-Encoding`` is decoded once, by the client)."""

    def __init__(self, runner: AppThread) -> None:
        self.runner = runner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        asgi = self.runner._asgi
        assert asgi is not None, "the app is not serving"

        async def send() -> tuple[int, httpx.Headers, bytes]:
            # the headers as sent (no Content-Length added where the client streamed without one)
            inner = httpx.Request(request.method, request.url, headers=request.headers, stream=_Chunks(body))
            answer = await asgi.handle_async_request(inner)
            raw = b"".join([chunk async for chunk in answer.aiter_raw()])
            await answer.aclose()
            return answer.status_code, answer.headers, raw

        status, headers, raw = self.runner.call(send)
        return httpx.Response(status, headers=headers, content=raw, request=request)


class _Chunks(httpx.AsyncByteStream):
    """A request body handed to the app in :data:`CHUNK_BYTES` pieces (one ASGI ``http.request``
    message each), as a server receives it from the network."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __aiter__(self):
        for start in range(0, len(self.body), CHUNK_BYTES):
            yield self.body[start : start + CHUNK_BYTES]
