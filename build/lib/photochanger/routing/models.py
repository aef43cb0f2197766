"""ORM rows shared by every server process: route circuits and in-flight permits."""

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.db import Base, UtcDateTime


class RouteStateRow(Base):
    """The circuit breaker of one route (``provider:model``) or of one slot's use of it
    (``provider:model@slot-004``); see :mod:`photochanger.routing.breaker`.
    Times are UTC."""

    __tablename__ = "route_states"

    route_key: Mapped[str] = mapped_column(String(96), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    probe_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    slow_scope: Mapped[str | None] = mapped_column(String(32))


class InFlightPermit(Base):
    """One place taken in an in-flight limit (``scope``: ``slot:<id>`` or ``provider:<name>``) by a
    job. A permit whose ``expires_at`` (UTC) has passed belongs to a dead process and no longer
    counts."""

    __tablename__ = "inflight_permits"
    __table_args__ = (Index("ix_inflight_permits_scope_expires", "scope", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
