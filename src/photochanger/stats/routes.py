"""``GET /api/stats/overview`` and ``GET /api/stats/timeseries``."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from photochanger.auth.dependencies import AdminSession
from photochanger.dependencies import Ctx
from photochanger.errors import ERROR_RESPONSES
from photochanger.stats import service
from photochanger.stats.schemas import Bucket, Overview, Timeseries, Window

router = APIRouter(prefix="/api/stats", tags=["stats"], responses=ERROR_RESPONSES)


@router.get("/overview", response_model=Overview)
async def overview(
    ctx: Ctx,
    _: AdminSession,
    window: Window | Literal["all"] = "24h",
    event_id: Annotated[str | None, Query(max_length=32, description="only this event's photos")] = None,
) -> Overview:
    """Totals and per-slot figures for the window (``all``: ever), of one event when given."""
    return await service.overview(ctx.db, window, event_id)


@router.get("/timeseries", response_model=Timeseries)
async def timeseries(
    ctx: Ctx,
    _: AdminSession,
    window: Window = "24h",
    bucket: Bucket | None = None,
    event_id: Annotated[str | None, Query(max_length=32, description="only this event's photos")] = None,
) -> Timeseries:
    """Counts by status and p95 total latency per bucket (default bucket by window), of one event
    when given."""
    return await service.timeseries(ctx.db, window, bucket, event_id)
