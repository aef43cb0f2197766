"""Slot input and output shapes."""

from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

TemplateRole = Literal["template", "background", "style", "face"]
TEMPLATE_ROLES: tuple[str, ...] = get_args(TemplateRole)


class RouteConfig(BaseModel):
    """A fallback route: another provider/model with its own settings; ``prompt`` None = the slot's."""

    model_config = ConfigDict(extra="forbid")

    provider: str
    settings: dict = Field(default_factory=dict)
    prompt: str | None = Field(default=None, max_length=8000)


OnFailure = Literal["error", "original"]
Hedging = Literal["auto", "on", "off"]
PeopleCheck = Literal["auto", "on", "off"]
PEOPLE_HELP = (
    "compare the faces in each AI answer with the photo's and retry or fall back when people were lost; "
    "auto: on for Gemini, OpenAI and Turbotext routes when the local-ai extra is installed"
)
HEDGING_HELP = (
    "auto: start the next route beside a slow primary only when it is the free local provider; "
    "on: also when it is a paid route (a hedge can bill both); off: never"
)


class TemplateView(BaseModel):
    """A slot template as shown to operators (sizes in bytes and pixels)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    role: str
    mime: str
    size_bytes: int
    width: int
    height: int
    created_at: datetime
    path: str | None = Field(default=None, exclude=True)  # where the store keeps it; never shown


LATE_DELIVERY_MAX_MINUTES = 60
LATE_HELP = (
    "minutes the AI photo may still be made after the booth's deadline passed (0: off); the booth gets "
    "what it gets without it (the local look, the original or the error), the guest's take-home page the AI photo"
)


class SlotView(BaseModel):
    """A slot's full configuration."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    display_name: str
    provider: str
    prompt: str
    settings: dict
    is_active: bool
    upload_limit_bytes: int | None
    max_in_flight: int | None
    fallbacks: list[RouteConfig] = []
    on_failure: OnFailure = "error"
    hedging: Hedging = "auto"
    people_check: PeopleCheck = "auto"
    people_tolerance: int = 0
    late_delivery_minutes: int = 0
    daily_spend_cap_usd: float | None = None
    version: int
    updated_at: datetime
    updated_by: str | None = None
    templates: list[TemplateView] = []


class SlotUpdate(BaseModel):
    """A partial change; ``settings`` replaces the provider settings when given."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    provider: str | None = None
    prompt: str | None = Field(default=None, max_length=8000)
    settings: dict | None = None
    is_active: bool | None = None
    upload_limit_bytes: int | None = Field(default=None, ge=1024, le=200 * 1024 * 1024)
    max_in_flight: int | None = Field(default=None, ge=1, le=64)
    fallbacks: list[RouteConfig] | None = Field(default=None, max_length=4, description="ordered fallback routes")
    on_failure: OnFailure | None = Field(default=None, description="error: JSON error; original: 200 with the photo")
    hedging: Hedging | None = Field(default=None, description=HEDGING_HELP)
    people_check: PeopleCheck | None = Field(default=None, description=PEOPLE_HELP)
    people_tolerance: int | None = Field(
        default=None, ge=0, le=5, description="how many faces an answer may differ from the photo by (0: exactly)"
    )
    late_delivery_minutes: int | None = Field(default=None, ge=0, le=LATE_DELIVERY_MAX_MINUTES, description=LATE_HELP)
    daily_spend_cap_usd: float | None = Field(
        default=None, ge=0, le=100_000, description="most this slot's paid routes spend per UTC day, USD; null: none"
    )


class SlotSummary(BaseModel):
    """A row of the slot list."""

    id: str
    display_name: str
    provider: str
    model: str | None
    is_active: bool
    version: int
    updated_at: datetime
    ingest_url: str
    last_job_status: str | None
    last_job_at: datetime | None
    last_result_thumbnail_url: str | None = None
    last_result_url: str | None = None


class SlotDetail(SlotView):
    """A slot with its ingest URL, most recent results (``JobSummary`` rows), the fields its
    prompt may name (``booth_fields``) and whether the people check can run here."""

    ingest_url: str
    booth_fields: list[str] = []
    people_check_available: bool = False
    recent_results: list = []


class ProviderDescription(BaseModel):
    """A provider of the catalogue as ``GET /api/providers`` shows it. Prices: US dollars per
    million tokens (input text, input image, output image), list prices, estimates only."""

    name: str
    requires_prompt: bool
    requires_public_url: bool
    key_variable: str | None = Field(description="environment variable of its API key(s)")
    models: list[str]
    prices_per_million_tokens: dict[str, list[float]]
    settings_schema: dict = Field(description="JSON Schema of the provider's slot settings")
    unavailable_settings: dict[str, str] = Field(
        default_factory=dict, description="settings needing an optional extra not installed here: the install hint"
    )
