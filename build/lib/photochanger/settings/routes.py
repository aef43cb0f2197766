"""``GET/PUT /api/settings``."""

from fastapi import APIRouter, Request

from photochanger.auth.dependencies import AdminSession
from photochanger.dependencies import Ctx
from photochanger.errors import ERROR_RESPONSES, ApiError, error_docs
from photochanger.settings import service
from photochanger.settings.schemas import SettingsUpdate, SettingsView

router = APIRouter(prefix="/api", tags=["settings"], responses=ERROR_RESPONSES)


@router.get("/settings", response_model=SettingsView)
async def get_settings(ctx: Ctx, _: AdminSession) -> SettingsView:
    """All settings; provider keys only as configured/last four characters."""
    return await service.view(ctx.db, ctx.config)


@router.put("/settings", response_model=SettingsView, responses=error_docs(422))
async def put_settings(change: SettingsUpdate, request: Request, ctx: Ctx, session: AdminSession) -> SettingsView:
    """Change settings; every server process uses the new values from its next request."""
    try:
        return await service.update(ctx.db, ctx.config, change, by=session.username)
    except ValueError as exc:
        raise ApiError(422, "invalid_settings", str(exc)) from None
