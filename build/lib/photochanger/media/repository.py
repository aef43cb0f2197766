"""SQL for published provider media."""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.media.models import ProviderMedia


async def add(session: AsyncSession, media: ProviderMedia) -> None:
    """Insert a published input."""
    session.add(media)


async def get(session: AsyncSession, token: str) -> ProviderMedia | None:
    """The published input with ``token``, or None."""
    return await session.get(ProviderMedia, token)


async def expired(session: AsyncSession, before: datetime) -> list[ProviderMedia]:
    """Published inputs that expired before ``before``."""
    return list(await session.scalars(select(ProviderMedia).where(ProviderMedia.expires_at < before)))


async def remove(session: AsyncSession, tokens: list[str]) -> None:
    """Forget published inputs."""
    await session.execute(delete(ProviderMedia).where(ProviderMedia.token.in_(tokens)))
