"""ORM row for one run-time setting."""

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.db import Base, UtcDateTime, utcnow


class AppSetting(Base):
    """A key/value setting; ``value`` is JSON (string, number or boolean)."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
