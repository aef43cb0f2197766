"""Shapes of the webhook routes."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class DeliveryView(BaseModel):
    """One photo webhook delivery as the delivery log shows it (times UTC)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    event: str = Field(description="photo.finished, photo.late_result or webhook.test")
    job_id: str | None
    url: str
    state: str = Field(description="pending (retried with back-off for an hour), delivered or failed")
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status: int | None = Field(description="the receiver's HTTP status (None: not reached)")
    last_error: str | None
    delivered_at: datetime | None
