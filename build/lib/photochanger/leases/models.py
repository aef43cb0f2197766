"""ORM row of one lease."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.db import Base, UtcDateTime


class Lease(Base):
    """``name`` is held by ``holder`` (a process id) until ``until``; after that anyone may claim it."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime] = mapped_column(UtcDateTime)
