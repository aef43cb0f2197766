"""Gallery shapes."""

from datetime import datetime

from pydantic import BaseModel, Field


class Moderation(BaseModel):
    """``PATCH /api/jobs/{job_id}``: ``hidden`` true hides the result from guests, false shows it."""

    hidden: bool


class ShareRequest(BaseModel):
    """``POST /api/gallery/share``."""

    minutes: int = Field(15, ge=1, le=1440)


class ShareState(BaseModel):
    """Whether the public gallery is open, until when, and its address."""

    active: bool
    shared_until: datetime | None
    public_url: str


class GalleryItem(BaseModel):
    """A result for guests: links only, no job details."""

    result_url: str
    thumbnail_url: str
    taken_at: datetime


class PublicGallery(BaseModel):
    """``GET /api/public/gallery``: newest first."""

    shared_until: datetime
    items: list[GalleryItem]
