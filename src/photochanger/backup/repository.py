"""SQL of backups: which media files the database refers to."""

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.jobs.models import Job
from photochanger.slots.models import SlotTemplate


async def media_paths(session: AsyncSession, originals: bool) -> list[str]:
    """Relative media paths the database refers to: every template, each job's result and (when
    ``originals``) its original, for jobs whose files were not deleted; sorted, unique."""
    paths: set[str] = set(await session.scalars(select(SlotTemplate.path)))
    columns = [Job.result_path, Job.input_path] if originals else [Job.result_path]
    for column in columns:
        found = await session.scalars(select(column).where(column.is_not(None), Job.media_purged_at.is_(None)))
        paths.update(p for p in found if p)
    return sorted(paths)


async def schema_revision(session: AsyncSession) -> str | None:
    """The Alembic revision the database is at (``alembic_version``), or None before migrations."""
    return await session.scalar(text("SELECT version_num FROM alembic_version"))
