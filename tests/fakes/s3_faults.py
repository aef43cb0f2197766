"""A fault-injecting HTTP proxy in front of a real S3 server (SeaweedFS): requests pass through
unchanged until a fault is set, then matching requests get S3's own error answer
(``503 SlowDown`` XML, as AWS documents for throttling) or hang — a store that is down, slow or
refusing writes, without mocking S3 itself."""

import asyncio
import contextlib
import re
from collections.abc import Iterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.server import ThreadedServer

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class S3Faults:
    """``fault`` None passes everything; else (``kind``, method regex, key regex) where kind is
    ``error`` (503 SlowDown) or ``hang`` (never answers). Counts the requests it failed."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.fault: tuple[str, str, str] | None = None
        self.failed = 0
        self._server = ThreadedServer(
            Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "PUT", "HEAD", "DELETE", "POST"])])
        )
        self.url = ""

    @contextlib.contextmanager
    def failing(self, kind: str, method: str, key: str) -> Iterator[None]:
        """Requests matching ``method`` and ``key`` fail with ``kind`` inside the block."""
        self.fault = (kind, method, key)
        try:
            yield
        finally:
            self.fault = None

    def start(self) -> "S3Faults":
        self.url = self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        if self.fault is not None:
            kind, method, key = self.fault
            if re.fullmatch(method, request.method) and re.search(key, request.url.path):
                self.failed += 1
                if kind == "hang":
                    await asyncio.sleep(3600)
                return Response(SLOW_DOWN, status_code=503, media_type="application/xml")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.request(
                request.method, f"{self.upstream}{request.url.path}", params=request.query_params, headers=headers,
                content=body,
            )  # fmt: skip
        dropped = HOP_BY_HOP | {"content-encoding"}
        if request.method == "HEAD":
            dropped = dropped - {"content-length"}  # a HEAD answer's size is the object's
        passed = {k: v for k, v in answer.headers.items() if k.lower() not in dropped}
        return Response(answer.content, status_code=answer.status_code, headers=passed)
