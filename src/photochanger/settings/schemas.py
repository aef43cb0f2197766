"""Run-time settings: names, types and ranges, and their API shapes."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from photochanger.config import check_ingest_password

#: An ingest password as an admin sets it: the same rule as ``PHOTOCHANGER_INGEST_PASSWORD``.
NewIngestPassword = Annotated[str, AfterValidator(check_ingest_password)]


def _http_url(value: str | None) -> str | None:
    if not value:
        return None
    if not value.startswith(("http://", "https://")) or len(value) > 2000 or any(c.isspace() for c in value):
        raise ValueError("must be an http:// or https:// URL")
    return value


#: An http(s) URL kept as text; "" means "not set".
HttpUrlText = Annotated[
    str, BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v), AfterValidator(_http_url)
]


TokenPrice = Annotated[float, Field(ge=0, le=10_000)]
ModelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][\w.\-]{0,63}$")]
#: model → (input text, input image, output image) US dollars per million tokens, as the providers publish
ModelPrices = dict[ModelName, tuple[TokenPrice, TokenPrice, TokenPrice]]


class RuntimeSettings(BaseModel):
    """Settings read from the database on every ingest, so a change applies without a restart."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    ingest_password: str = Field(min_length=4, max_length=128)
    sync_response_seconds: int = Field(default=48, ge=10, le=60, description="Whole-request deadline, seconds.")
    result_ttl_hours: int = Field(default=168, ge=1, le=720, description="How long results stay downloadable.")
    slot_max_in_flight: int = Field(default=4, ge=1, le=64, description="Default in-flight ingests per slot.")
    provider_max_in_flight: int = Field(default=32, ge=1, le=256, description="In-flight ingests per provider.")
    alert_webhook_url: HttpUrlText | None = Field(
        default=None, description="Receives a JSON POST whenever a route's circuit opens or closes."
    )
    photo_webhook_url: HttpUrlText | None = Field(
        default=None,
        description="Receives a signed JSON POST when a photo is finished and when a late AI photo arrives.",
    )
    webhook_secret: str | None = Field(
        default=None, min_length=16, max_length=128, description="HMAC-SHA256 key signing each photo webhook POST."
    )
    daily_spend_cap_usd: float | None = Field(
        default=None, ge=0, le=100_000, description="Most the paid routes may spend per UTC day, US dollars."
    )
    spend_warning_percent: int = Field(default=80, ge=1, le=100, description="Share of the cap that warns the owner.")
    model_prices: ModelPrices | None = Field(
        default=None,
        description="Prices per model over the list prices: model → [text in, image in, image out] USD per 1M tokens.",
    )


SETTING_KEYS: tuple[str, ...] = tuple(RuntimeSettings.model_fields)
SECRET_KEYS: frozenset[str] = frozenset({"ingest_password", "webhook_secret"})


class ProviderKeyView(BaseModel):
    """A write-only provider key: whether it is set, its last four characters, when it changed."""

    configured: bool
    last4: list[str] = Field(default_factory=list, description="last four characters of each key")
    updated_at: datetime | None = None
    source: str | None = Field(default=None, description="database or environment")


class SettingsView(RuntimeSettings):
    """``GET /api/settings``: admins may read the ingest password (they copy it into the booth)."""

    model_config = ConfigDict(extra="forbid")

    ingest_password_updated_at: datetime | None = None
    ingest_password_updated_by: str | None = None
    provider_keys: dict[str, ProviderKeyView]


class SettingsUpdate(BaseModel):
    """``PUT /api/settings``: only the given fields change. A provider key of ``""`` removes it."""

    model_config = ConfigDict(extra="forbid")

    ingest_password: NewIngestPassword | None = Field(default=None, min_length=4, max_length=128)
    sync_response_seconds: int | None = Field(default=None, ge=10, le=60)
    result_ttl_hours: int | None = Field(default=None, ge=1, le=720)
    slot_max_in_flight: int | None = Field(default=None, ge=1, le=64)
    provider_max_in_flight: int | None = Field(default=None, ge=1, le=256)
    alert_webhook_url: HttpUrlText | None = Field(default=None, description="'' removes it")
    photo_webhook_url: HttpUrlText | None = Field(default=None, description="'' removes it")
    webhook_secret: str | None = Field(default=None, min_length=16, max_length=128)
    daily_spend_cap_usd: float | None = Field(default=None, ge=0, le=100_000, description="null removes the cap")
    spend_warning_percent: int | None = Field(default=None, ge=1, le=100)
    model_prices: ModelPrices | None = Field(default=None, description="{} or null removes every override")
    provider_keys: dict[str, str | list[str]] | None = Field(
        default=None, description="provider → key, keys (list or comma separated, used round-robin); '' removes"
    )
