"""ORM row for short-lived public links to provider inputs."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.db import Base, UtcDateTime


class ProviderMedia(Base):
    """An input image published for a provider that fetches by URL (Turbotext) until ``expires_at``
    (the job's deadline). ``token`` is unguessable (256 random bits)."""

    __tablename__ = "provider_media"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(String(255))
    mime: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
