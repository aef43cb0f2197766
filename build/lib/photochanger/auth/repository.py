"""SQL for admins and revoked tokens."""

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.auth.models import Admin, RevokedToken


async def get_admin(session: AsyncSession, username: str) -> Admin | None:
    """The admin named ``username``, or None."""
    return await session.scalar(select(Admin).where(Admin.username == username))


async def list_admins(session: AsyncSession) -> list[Admin]:
    """All admins by name."""
    return list(await session.scalars(select(Admin).order_by(Admin.username)))


async def count_admins(session: AsyncSession) -> int:
    """How many admin accounts exist."""
    return await session.scalar(select(func.count()).select_from(Admin)) or 0


async def add_admin(session: AsyncSession, admin: Admin) -> None:
    """Insert an admin (``IntegrityError`` on flush if the name is taken)."""
    session.add(admin)
    await session.flush()


async def revoke(session: AsyncSession, jti: str, expires_at: datetime) -> None:
    """Deny-list a token id until it expires (idempotent)."""
    if await session.get(RevokedToken, jti) is None:
        session.add(RevokedToken(jti=jti, expires_at=expires_at))


async def is_revoked(session: AsyncSession, jti: str) -> bool:
    """True if the token id was logged out."""
    return await session.get(RevokedToken, jti) is not None


async def purge_revoked(session: AsyncSession, now: datetime) -> None:
    """Drop deny-list entries of tokens that have expired anyway."""
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
