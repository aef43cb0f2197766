"""Run-time settings: names, types and ranges."""

from pydantic import BaseModel, ConfigDict, Field


class RuntimeSettings(BaseModel):
    """Settings read from the database on every ingest, so a change applies without a restart."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    ingest_password: str = Field(min_length=4, max_length=128)
    sync_response_seconds: int = Field(48, ge=10, le=60, description="Whole-request deadline, seconds.")
    result_ttl_hours: int = Field(168, ge=1, le=720, description="How long results stay downloadable.")


SETTING_KEYS: tuple[str, ...] = tuple(RuntimeSettings.model_fields)
SECRET_KEYS: frozenset[str] = frozenset({"ingest_password"})
