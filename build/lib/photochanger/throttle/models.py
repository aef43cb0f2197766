"""ORM row of one counted event of a database-backed throttle window."""

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.db import Base, UtcDateTime


class ThrottleEvent(Base):
    """One event of ``key`` in the window named ``scope`` (e.g. ``login_ip`` / ``10.0.0.7``), at
    ``at`` (UTC); rows are shared by every server process and pruned once out of every window."""

    __tablename__ = "throttle_events"
    __table_args__ = (Index("ix_throttle_events_key", "scope", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
