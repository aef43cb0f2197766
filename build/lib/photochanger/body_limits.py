"""Request bodies bounded before they are read, and credentials checked before bodies.

A pure ASGI middleware in front of every route but the booth's ingest (which streams and bounds
its own upload, :mod:`photochanger.ingest.upload`). Per request:

1. **Credentials before the body.** On an admin route (``/api/…`` except the login, the public
   and the ingest routes) a request that carries a body (``Content-Length`` > 0 or chunked) must
   carry a bearer token with a valid signature (HS256, checked with PyJWT; no database read): else
   ``401 unauthorized`` before one byte of the body is read. The route's own dependency still
   checks revocation and the account.
2. **A limit that fits the purpose**: :data:`LOGIN_BODY_BYTES` for ``POST /api/login``, the
   upload limit plus :data:`FORM_OVERHEAD_BYTES` for the two admin image uploads (test run,
   template), :data:`JSON_BODY_BYTES` for everything else. A declared ``Content-Length`` over it is
   ``413 payload_too_large`` at once; a chunked body is counted while it streams and refused when
   it passes the limit.
3. **Time**: an unauthenticated body (the login) must arrive whole within
   :data:`LOGIN_BODY_SECONDS`; any body may pause at most ``UPLOAD_IDLE_SECONDS`` between chunks.
   Late: ``408 upload_timeout``.

Refusals raise :class:`BodyRefused` (a Starlette ``HTTPException``, so FastAPI's body parsing
passes it on unchanged) and answer the JSON error shape of :mod:`photochanger.errors`.
"""

import asyncio
import re
from collections.abc import Callable

import jwt
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from photochanger.errors import ApiError, error_response

LOGIN_BODY_BYTES = 16 * 1024
JSON_BODY_BYTES = 1024 * 1024
FORM_OVERHEAD_BYTES = 64 * 1024
LOGIN_BODY_SECONDS = 10.0
UPLOAD_ROUTES = re.compile(r"^/api/slots/[^/]+/(test-run|templates)$")
UNGUARDED = re.compile(r"^/(api/)?ingest/")  # the booth's upload: streamed and bounded by the ingest package
OPEN_API = ("/api/login", "/api/public/")  # no token needed


class BodyRefused(HTTPException):
    """A body refused by its size, its time or the missing credentials: ``status_code``, stable
    ``failure_reason`` and ``detail``."""

    def __init__(self, status_code: int, failure_reason: str, detail: str, headers: dict | None = None) -> None:
        super().__init__(status_code, detail, headers)
        self.failure_reason = failure_reason

    def error(self) -> ApiError:
        """As the JSON error of :mod:`photochanger.errors`."""
        return ApiError(self.status_code, self.failure_reason, str(self.detail), headers=dict(self.headers or {}))


class BodyLimits:
    """The middleware of the module docstring. ``jwt_secret`` is read when first needed,
    ``upload_limit`` (bytes) is the largest admin image upload, ``idle`` the longest pause in
    seconds between two chunks of a body."""

    def __init__(self, app: ASGIApp, jwt_secret: str | Callable[[], str], upload_limit: int, idle: float) -> None:
        self.app = app
        self.jwt_secret = jwt_secret
        self.upload_limit = upload_limit
        self.idle = idle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or UNGUARDED.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            receive = self._guard(scope, receive)
        except BodyRefused as refused:
            await error_response(refused.error())(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _guard(self, scope: Scope, receive: Receive) -> Receive:
        """``receive`` bounded for this request; raises :class:`BodyRefused` for what is known
        from the headers alone."""
        path: str = scope["path"]
        declared, chunked, token = None, False, None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = int(value) if value.isdigit() else None
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"authorization" and value[:7].lower() == b"bearer ":
                token = value[7:].decode("latin-1").strip()
        has_body = chunked or bool(declared)
        login = path == "/api/login"
        if has_body and path.startswith("/api/") and not path.startswith(OPEN_API) and not self._signed(token):
            challenge = {"WWW-Authenticate": 'Bearer realm="photochanger"'}
            raise BodyRefused(401, "unauthorized", "a valid bearer token is needed before a body", challenge)
        if login:
            limit = LOGIN_BODY_BYTES
        elif UPLOAD_ROUTES.match(path):
            limit = self.upload_limit + FORM_OVERHEAD_BYTES
        else:
            limit = JSON_BODY_BYTES
        if declared is not None and declared > limit:
            raise BodyRefused(413, "payload_too_large", f"body of {declared} bytes is over this route's {limit} bytes")
        if not has_body:
            return receive
        return _bounded(receive, limit, self.idle, LOGIN_BODY_SECONDS if login else None)

    def _signed(self, token: str | None) -> bool:
        if not token:
            return False
        secret = self.jwt_secret() if callable(self.jwt_secret) else self.jwt_secret
        try:
            jwt.decode(token, secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return False
        return True


def _bounded(receive: Receive, limit: int, idle: float, total: float | None) -> Receive:
    """``receive`` that counts the body's bytes (:class:`BodyRefused` 413 past ``limit``) and
    bounds each wait by ``idle`` seconds and the whole body by ``total`` (408)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + total if total is not None else None
    seen = 0
    complete = False

    async def bounded() -> Message:
        nonlocal seen, complete
        if complete:  # the body is in: later calls wait for a disconnect, unbounded
            return await receive()
        wait = idle if end is None else min(idle, end - loop.time())
        try:
            async with asyncio.timeout(max(0.0, wait)):
                message = await receive()
        except TimeoutError:
            raise BodyRefused(408, "upload_timeout", "the request body did not arrive in time") from None
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyRefused(413, "payload_too_large", f"body over this route's {limit} bytes")
            complete = not message.get("more_body", False)
        return message

    return bounded
