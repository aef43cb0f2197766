"""FastAPI dependency: ``Authorization: Bearer <JWT>`` on every admin route."""

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from photochanger.auth.service import AuthError, Session, authenticate
from photochanger.dependencies import Ctx
from photochanger.errors import ApiError

bearer = HTTPBearer(auto_error=False, description="JWT from POST /api/login")


async def current_session(
    ctx: Ctx, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Session:
    """The caller's session; 401 with ``WWW-Authenticate: Bearer`` when missing, invalid or expired."""
    challenge = {"WWW-Authenticate": 'Bearer realm="photochanger"'}
    if credentials is None:
        raise ApiError(401, "unauthorized", "missing bearer token", headers=challenge)
    try:
        return await authenticate(ctx.db, ctx.config.resolved_jwt_secret, credentials.credentials)
    except AuthError as exc:
        challenge["WWW-Authenticate"] += ', error="invalid_token"'
        raise ApiError(401, "unauthorized", f"token rejected: {exc.reason}", headers=challenge) from None


AdminSession = Annotated[Session, Depends(current_session)]
