"""Statistics shapes. Latencies in milliseconds, storage in bytes, rates 0–1."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Window = Literal["1h", "24h", "7d"]
Bucket = Literal["5m", "15m", "1h", "6h", "1d"]
WINDOW_SECONDS = {"1h": 3600, "24h": 86400, "7d": 7 * 86400}
BUCKET_SECONDS = {"5m": 300, "15m": 900, "1h": 3600, "6h": 21600, "1d": 86400}
DEFAULT_BUCKET: dict[str, "Bucket"] = {"1h": "5m", "24h": "1h", "7d": "6h"}


class SlotStats(BaseModel):
    """Figures of one slot (or of all, in ``totals``). ``hedges_lost``: attempts cancelled because
    a hedged route answered first; ``estimated_hedge_cost_usd``: what those may have been billed
    (the route's mean reported cost per success), included in ``estimated_cost_usd``;
    ``people_lost``: AI answers refused because they lost the photo's people."""

    jobs: int = 0
    done: int = 0
    failed: int = 0
    timeouts: int = 0
    failed_by_reason: dict[str, int] = {}
    success_rate: float | None = Field(
        default=None,
        description="booth photos answered with an image in time ÷ booth photos that reached a provider (0–1)",
    )
    late_deliveries: int = Field(
        default=0, description="AI photos that reached the take-home page after the booth's deadline (late delivery)"
    )
    late_continuing: int = Field(default=0, description="AI photos still being made after the booth's deadline")
    rejected: int = Field(default=0, description="requests refused before any provider: wrong password, bad file, …")
    p50_total_ms: int | None = None
    p95_total_ms: int | None = None
    p50_provider_ms: int | None = None
    p95_provider_ms: int | None = None
    retried_jobs: int = 0
    retries: int = 0
    fallbacks: int = 0
    hedges_lost: int = 0
    people_lost: int = 0
    estimated_hedge_cost_usd: float = 0.0
    estimated_cost_usd: float = 0.0
    storage_bytes: int = 0


class Overview(BaseModel):
    """``GET /api/stats/overview``; ``event_id``: only that event's photos."""

    window: Window | Literal["all"]
    since: datetime
    event_id: str | None = None
    totals: SlotStats
    slots: dict[str, SlotStats]


class ChartPoint(BaseModel):
    """One chart point: jobs by status and p95 total latency in the interval from ``start``."""

    start: datetime
    counts: dict[str, int]
    p95_total_ms: int | None


class Timeseries(BaseModel):
    """``GET /api/stats/timeseries``."""

    window: Window
    bucket: Bucket
    buckets: list[ChartPoint]
