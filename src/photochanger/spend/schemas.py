"""Shapes of the spend route."""

from typing import Literal

from pydantic import BaseModel, Field


class SpendToday(BaseModel):
    """Today's spend against the daily cap (US dollars, list-price estimates; the UTC day)."""

    scope: str = Field(description="day:YYYY-MM-DD (UTC)")
    spent_usd: float
    reserved_usd: float = Field(description="held for attempts under way")
    cap_usd: float | None = Field(description="None: no cap")
    warning_percent: int
    state: Literal["ok", "warning", "exhausted", "uncapped"]
