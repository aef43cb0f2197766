"""ORM rows of events."""

from datetime import datetime

from sqlalchemy import JSON, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.db import Base, UtcDateTime


class Event(Base):
    """One client's night. Live from ``starts_at`` (None: not started) until ``ends_at`` (None:
        open-ended); ``slot_ids`` the slots whose photos belong to it while live (no two events live on
        one slot at once). ``title`` and ``colour`` (``#rrggbb``) are shown on the take-home page, the
        gallery and the slideshow; ``spend_cap_usd`` bounds its paid attempts (US dollars, list
        prices); ``webhook_url`` receives its photos instead of the global photo webhook; ``logo_path``
    its logo (JPEG, PNG or WebP) in the media store. Times UTC."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_starts", "starts_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    client: Mapped[str | None] = mapped_column(String(120))
    slot_ids: Mapped[list] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    title: Mapped[str | None] = mapped_column(String(120))
    colour: Mapped[str | None] = mapped_column(String(7))
    spend_cap_usd: Mapped[float | None] = mapped_column(Float)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    logo_path: Mapped[str | None] = mapped_column(String(255))  # in the media store; shown to guests
    logo_mime: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
