"""Gallery shapes."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field


class Moderation(BaseModel):
    """``PATCH /api/jobs/{job_id}``: ``hidden`` true hides the result from guests, false shows it;
    ``approved`` true lets it into a gallery shared with approval, false withdraws it. Either or both."""

    hidden: bool | None = None
    approved: bool | None = None


SlotId = Annotated[str, Field(pattern=r"^slot-0(0[1-9]|1[0-5])$")]


class ShareRequest(BaseModel):
    """``POST /api/gallery/share``: open for ``minutes``; only ``slots`` (None: every slot); only
    photos taken from now on unless ``include_earlier`` (last week's event stays private); an
    optional ``title`` shown to guests; an optional ``pin`` (4–8 digits, e.g. printed on a sign at
    the event) guests must enter — it keeps passers-by out, it is not a password. ``since`` (UTC)
    shows photos taken from then on instead: sharing again to extend the time sends the current
    share's ``since``, so guests keep the photos they saw."""

    minutes: int = Field(default=15, ge=1, le=1440)
    slots: list[SlotId] | None = Field(default=None, min_length=1, max_length=15)
    include_earlier: bool = False
    since: datetime | None = None
    title: str | None = Field(default=None, max_length=80)
    pin: str | None = Field(default=None, pattern=r"^[0-9]{4,8}$")  # ASCII digits only (\d would take "١٢٣٤")
    approval: bool = False
    event_id: str | None = Field(
        default=None,
        max_length=32,
        description="only this event's photos (its slots, at any time); its title and colour",
    )


class ShareState(BaseModel):
    """Whether the public gallery is open, until when, its address, and what it shows."""

    active: bool
    shared_until: datetime | None
    public_url: str
    slots: list[str] | None = None
    since: datetime | None = None
    title: str | None = None
    pin: str | None = None
    approval: bool = False
    pin_locked: bool = False  # too many wrong PINs this hour (from every address): share again with a new PIN
    event_id: str | None = None
    colour: str | None = None
    logo_url: str | None = None


class GalleryItem(BaseModel):
    """A result for guests: links only, no job details."""

    result_url: str
    thumbnail_url: str
    taken_at: datetime


class PublicGallery(BaseModel):
    """``GET /api/public/gallery``: newest first."""

    shared_until: datetime
    title: str | None = None
    colour: str | None = Field(default=None, description="#rrggbb: the event's colour")
    logo_url: str | None = Field(default=None, description="the event's logo")
    items: list[GalleryItem]
