"""API shapes of route health and warm-up."""

from datetime import datetime

from pydantic import BaseModel, Field


class RouteHealthView(BaseModel):
    """One route (``provider:model``), or one slot's circuit of it (``provider:model@slot-004``:
    open when that slot's prompt makes the model slow): its circuit and its attempts of the last 15
    minutes."""

    route_key: str
    state: str = Field(description="closed | open | half_open")
    failures_in_a_row: int
    changed_at: datetime | None
    reason: str | None = Field(description="the failure that opened the circuit")
    attempts_15m: int
    failed_15m: int
    slots: list[str] = Field(description="active slots that use this route")


class DegradedSlot(BaseModel):
    """A slot that answered booth photos from a fallback route or with the original recently."""

    slot_id: str
    jobs_15m: int
    from_fallback_route: int
    from_original: int


class RoutesOverview(BaseModel):
    """``GET /api/routes``: what the dashboard's health banner shows."""

    routes: list[RouteHealthView]
    degraded_slots: list[DegradedSlot]


class WarmupResult(BaseModel):
    """One warm-up request: ``outcome`` success | failed | timeout | invalid; ``latency_ms``."""

    slot_id: str
    route_index: int
    route_key: str
    outcome: str
    failure_class: str | None = None
    failure_code: str | None = None
    detail: str | None = None
    latency_ms: int = 0
