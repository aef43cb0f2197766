"""ORM rows of spend under the caps."""

from datetime import datetime

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.db import Base, UtcDateTime


class SpendTotal(Base):
    """What one budget scope has spent and holds reserved, in US dollars (list-price estimates).
    ``scope``: ``day:2026-12-02`` (UTC day, every slot). ``warned_at``: when the soft threshold's
    warning went out (once per scope)."""

    __tablename__ = "spend_totals"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    spent_usd: Mapped[float] = mapped_column(Float, default=0.0)
    reserved_usd: Mapped[float] = mapped_column(Float, default=0.0)
    warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    refused_at_cap: Mapped[float | None] = mapped_column(Float)  # the cap under which a paid attempt was last refused
