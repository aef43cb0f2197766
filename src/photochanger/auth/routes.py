"""``POST /api/login`` and ``POST /api/logout``."""

from datetime import timedelta

from fastapi import APIRouter, Request, Response

from photochanger.auth import service
from photochanger.auth.dependencies import AdminSession
from photochanger.auth.schemas import LoginRequest, TokenResponse
from photochanger.dependencies import Ctx
from photochanger.errors import ERROR_RESPONSES, ApiError, error_docs

router = APIRouter(prefix="/api", tags=["auth"], responses=ERROR_RESPONSES)


def client_ip(request: Request) -> str:
    """The caller's IP (uvicorn applies X-Forwarded-For from trusted proxies only)."""
    return request.client.host if request.client else "unknown"


@router.post("/login", response_model=TokenResponse, responses=error_docs(401, 429))
async def login(body: LoginRequest, request: Request, ctx: Ctx) -> TokenResponse:
    """Exchange username and password for a bearer token."""
    try:
        return await service.login(
            ctx.db,
            ctx.config.resolved_jwt_secret,
            timedelta(hours=ctx.config.token_ttl_hours),
            body.username,
            body.password,
            client_ip(request),
            ctx.login_throttle,
            ctx.password_hashing,
        )
    except service.AuthError as exc:
        if exc.reason == "throttled":
            raise ApiError(
                429,
                "login_throttled",
                f"too many failed logins; retry in {exc.retry_after} s",
                headers={"Retry-After": str(exc.retry_after)},
            ) from None
        if exc.reason == "busy":
            raise ApiError(
                429, "login_busy", "too many logins at once; retry in a second", headers={"Retry-After": "1"}
            ) from None
        raise ApiError(401, "invalid_credentials", "wrong username or password") from None


@router.post("/logout", status_code=204, responses=error_docs(401))
async def logout(session: AdminSession, ctx: Ctx) -> Response:
    """Revoke the caller's token."""
    await service.logout(ctx.db, session)
    return Response(status_code=204)
