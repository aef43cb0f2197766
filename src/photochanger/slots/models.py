"""ORM rows for slots and their template images."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.db import Base, UtcDateTime, utcnow


class Slot(Base):
    """A fixed slot ``slot-001`` … ``slot-015``; seeded by migration, never created at run time."""

    __tablename__ = "slots"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(120))
    provider: Mapped[str] = mapped_column(String(32))
    prompt: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    upload_limit_bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_in_flight: Mapped[int | None] = mapped_column(Integer, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    fallbacks: Mapped[list] = mapped_column(JSON, default=list)
    on_failure: Mapped[str] = mapped_column(String(16), default="error")
    hedging: Mapped[str] = mapped_column(String(8), default="auto")
    people_check: Mapped[str] = mapped_column(String(8), default="auto")
    people_tolerance: Mapped[int] = mapped_column(Integer, default=0)
    late_delivery_minutes: Mapped[int] = mapped_column(Integer, default=0)  # 0: off
    daily_spend_cap_usd: Mapped[float | None] = mapped_column(Float)  # this slot's paid routes per UTC day


class SlotTemplate(Base):
    """A template/reference image of a slot (``role``: template, background, style or face)."""

    __tablename__ = "slot_templates"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot_id: Mapped[str] = mapped_column(ForeignKey("slots.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(255))
    mime: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SlotAudit(Base):
    """One saved change of a slot: who, when, the version it produced, and before/after values."""

    __tablename__ = "slot_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slot_id: Mapped[str] = mapped_column(ForeignKey("slots.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    changed_by: Mapped[str | None] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    changes: Mapped[dict] = mapped_column(JSON)
