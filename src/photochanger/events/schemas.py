"""Shapes of events."""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from photochanger.settings.schemas import HttpUrlText

EventState = Literal["planned", "live", "ended"]
SLOT_ID = re.compile(r"^slot-0(0[1-9]|1[0-5])$")  # the 15 fixed slots, slot-001 … slot-015


def _slot_ids(value: list[str]) -> list[str]:
    for slot_id in value:
        if not SLOT_ID.match(slot_id):
            raise ValueError(f"{slot_id!r} is not one of slot-001 … slot-015")
    return sorted(set(value))


SlotIds = Annotated[list[str], AfterValidator(_slot_ids)]
Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="#rrggbb")]


class EventChange(BaseModel):
    """An event as created (every field given) or edited (only the fields sent change; ``null``
    clears an optional one). Times are ISO 8601 with an offset; ``ends_at`` None: open-ended."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    client: str | None = Field(default=None, max_length=120)
    slot_ids: SlotIds | None = Field(default=None, min_length=1, description="slot-001 … slot-015")
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    title: str | None = Field(default=None, max_length=120, description="shown on the guests' pages")
    colour: Colour | None = None
    spend_cap_usd: float | None = Field(default=None, ge=0, le=100_000, description="US dollars, list prices")
    webhook_url: HttpUrlText | None = Field(default=None, description="its photos' webhook instead of the global one")


class EventView(BaseModel):
    """An event as the admin sees it; ``state`` from its times now."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    client: str | None
    slot_ids: list[str]
    starts_at: datetime | None
    ends_at: datetime | None
    title: str | None
    colour: str | None
    spend_cap_usd: float | None
    webhook_url: str | None
    created_at: datetime
    updated_at: datetime
    state: EventState = "planned"
    photos: int = Field(default=0, description="booth photos that belong to it")
    logo_url: str | None = Field(default=None, description="its logo for guests (relative to the server)")


class EventLook(BaseModel):
    """What guests see of an event: its title and colour."""

    title: str | None
    colour: str | None


class EventSummary(BaseModel):
    """An event's figures: photos (jobs of the event), on-time ``done``, ``success_rate`` of booth
    photos, ``p95_total_ms`` (milliseconds), spend in US dollars against ``cap_usd``."""

    id: str
    name: str
    state: EventState
    photos: int
    done: int
    success_rate: float | None
    p95_total_ms: int | None
    spent_usd: float
    reserved_usd: float
    cap_usd: float | None
    spend_state: Literal["ok", "warning", "exhausted", "uncapped"]
