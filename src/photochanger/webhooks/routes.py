"""Admin routes of the photo webhook: the delivery log and a test delivery."""

from typing import Annotated

from fastapi import APIRouter, Query

from photochanger.auth.dependencies import AdminSession
from photochanger.dependencies import Ctx
from photochanger.errors import ERROR_RESPONSES, ApiError, error_docs
from photochanger.settings import service as settings_service
from photochanger.webhooks import service
from photochanger.webhooks.schemas import DeliveryView

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)


@router.get("/deliveries", response_model=list[DeliveryView])
async def deliveries(ctx: Ctx, _: AdminSession, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[DeliveryView]:
    """The newest photo webhook deliveries with their last status (pending ones are retried)."""
    return [DeliveryView.model_validate(row) for row in await service.recent(ctx.db, limit)]


@router.post("/test", response_model=DeliveryView, responses=error_docs(409))
async def send_test(ctx: Ctx, _: AdminSession) -> DeliveryView:
    """Send one signed ``webhook.test`` POST to the photo webhook now and show how the receiver
    answered. 409 ``webhook_not_set`` without a ``photo_webhook_url``."""
    current = await settings_service.load(ctx.db)
    if not current.photo_webhook_url or not current.webhook_secret:
        raise ApiError(409, "webhook_not_set", "set photo_webhook_url first")
    row = await service.send_test(
        ctx.db, current.photo_webhook_url, current.webhook_secret, ctx.clock, ctx.config.webhook_allow_loopback
    )
    return DeliveryView.model_validate(row)
