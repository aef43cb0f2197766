"""``GET /api/routes`` (route health for the dashboard) and ``POST /api/routes/warmup``."""

from fastapi import APIRouter, Request

from photochanger.auth.dependencies import AdminSession
from photochanger.dependencies import Ctx
from photochanger.errors import ERROR_RESPONSES
from photochanger.routing import service
from photochanger.routing.schemas import RoutesOverview, WarmupResult

router = APIRouter(prefix="/api/routes", tags=["routes"], responses=ERROR_RESPONSES)


@router.get("", response_model=RoutesOverview)
async def routes_health(ctx: Ctx, _: AdminSession) -> RoutesOverview:
    """Each route's circuit (closed / open / half-open) and recent failures, and the slots that
    answered from fallbacks or originals in the last 15 minutes."""
    return await service.overview(ctx)


@router.post("/warmup", response_model=list[WarmupResult])
async def warmup(request: Request, ctx: Ctx, _: AdminSession, provider: str | None = None) -> list[WarmupResult]:
    """Send one real request through every route of every active slot (``?provider=gemini``: only
    that provider's routes — how Settings tests a key); each outcome and latency. A success closes
    a route's open circuit. Takes up to 45 s."""
    return await service.warmup(ctx, provider)
