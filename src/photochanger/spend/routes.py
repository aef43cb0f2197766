"""``GET /api/spend``: today's spend against the daily cap, for the dashboard."""

from fastapi import APIRouter

from photochanger.auth.dependencies import AdminSession
from photochanger.dependencies import Ctx
from photochanger.errors import ERROR_RESPONSES
from photochanger.settings import service as settings_service
from photochanger.spend import service
from photochanger.spend.schemas import SpendToday

router = APIRouter(prefix="/api", tags=["spend"], responses=ERROR_RESPONSES)


@router.get("/spend", response_model=SpendToday)
async def spend_today(ctx: Ctx, _: AdminSession) -> SpendToday:
    """Spent and reserved today, the cap, and whether the warning threshold or the cap is reached
    (at the cap paid routes are skipped: ``local`` or the original answers)."""
    current = await settings_service.load(ctx.db)
    scope, spent, reserved, refused_at_cap = await service.today(ctx.db)
    return SpendToday(
        scope=scope,
        spent_usd=round(spent, 6),
        reserved_usd=round(reserved, 6),
        cap_usd=current.daily_spend_cap_usd,
        warning_percent=current.spend_warning_percent,
        state=service.state(
            spent + reserved, current.daily_spend_cap_usd, current.spend_warning_percent, refused_at_cap
        ),
    )
