"""ORM rows for admin accounts and revoked tokens."""

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.db import Base, UtcDateTime


class Admin(Base):
    """An admin account; ``password_hash`` is an argon2id hash (argon2-cffi). A token is valid only
    in the ``session_generation`` it was issued in (a password change starts the next one)."""

    __tablename__ = "admins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # +1 at each password change; a token carries the generation it was issued in ("gen")
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RevokedToken(Base):
    """A logged-out JWT (by ``jti``), kept until the token would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
