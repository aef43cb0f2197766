"""SQL for admins, revoked tokens and login failures."""

from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.auth.models import Admin, LoginFailure, RevokedToken
from photochanger.db import dialect_name, rows_affected


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


async def lock_login_ip(session: AsyncSession, ip: str) -> None:
    """Serialise login bookkeeping of one IP until the transaction ends (PostgreSQL advisory lock;
    SQLite has a single writer), so concurrent attempts count each other."""
    if dialect_name(session) == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"login:{ip}"})


async def add_failure(session: AsyncSession, username: str, ip: str, at: datetime) -> int:
    """Record a failed (or not yet checked) login; returns its id."""
    failure = LoginFailure(username=username, ip=ip, at=at)
    session.add(failure)
    await session.flush()
    return failure.id


async def remove_failure(session: AsyncSession, failure_id: int) -> None:
    """Forget one recorded attempt."""
    await session.execute(delete(LoginFailure).where(LoginFailure.id == failure_id))


async def failures_since(
    session: AsyncSession, ip: str, since: datetime, until: datetime, username: str | None = None
) -> list[datetime]:
    """Times of the failed logins from ``ip`` (of ``username`` only, if given) from ``since`` to
    ``until``, oldest first. Failures dated after ``until`` (recorded before the clock was stepped
    back) are not counted: a lock-out never outlasts its ``Retry-After``."""
    query = select(LoginFailure.at).where(LoginFailure.ip == ip, LoginFailure.at >= since, LoginFailure.at <= until)
    if username is not None:
        query = query.where(LoginFailure.username == username)
    return list(await session.scalars(query.order_by(LoginFailure.at)))


async def prune_failures(session: AsyncSession, before: datetime) -> int:
    """Forget failed logins older than ``before``; returns how many."""
    result = await session.execute(delete(LoginFailure).where(LoginFailure.at < before))
    return rows_affected(result)


async def clear_failures(session: AsyncSession, username: str, ip: str, older_than: datetime | None = None) -> None:
    """Forget the pair's failures (after a success), and every failure before ``older_than``."""
    await session.execute(delete(LoginFailure).where(LoginFailure.username == username, LoginFailure.ip == ip))
    if older_than is not None:
        await session.execute(delete(LoginFailure).where(LoginFailure.at < older_than))


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
