"""``/healthz`` (process alive), ``/readyz`` (database and media usable), ``/metrics``."""

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from photochanger.dependencies import Ctx
from photochanger.errors import ApiError
from photochanger.health.service import readiness
from photochanger.metrics import exposition

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Always ``{"status": "ok"}`` while the process serves requests."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(ctx: Ctx) -> JSONResponse:
    """200 when the database accepts a write, the media store (folder or bucket) accepts a file and
    the scratch disk has ``MIN_FREE_DISK_MB`` free, else 503 with each check's outcome."""
    checks = await readiness(ctx)
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"status": "ok" if ready else "error", "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
async def metrics(request: Request, ctx: Ctx) -> Response:
    """Prometheus text exposition; with ``METRICS_TOKEN`` set only for ``Authorization: Bearer <token>``
    (401 ``invalid_token`` otherwise)."""
    token = ctx.config.metrics_token
    if token is not None:
        sent = request.headers.get("authorization", "").removeprefix("Bearer ").encode()
        if not hmac.compare_digest(sent, token.encode()):
            raise ApiError(401, "invalid_token", "/metrics needs the METRICS_TOKEN bearer token")
    body, content_type = exposition()
    return Response(body, media_type=content_type)
