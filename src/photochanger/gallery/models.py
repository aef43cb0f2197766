"""ORM row for request counting (public gallery rate limit)."""

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.db import Base, UtcDateTime


class RateLimitBucket(Base):
    """Requests counted per key (e.g. ``gallery:<ip>``) and fixed window start; shared by processes."""

    __tablename__ = "rate_limit_buckets"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
