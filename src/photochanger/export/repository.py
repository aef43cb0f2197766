"""SQL of the export: an event's booth photos in the order they arrived, a page at a time."""

from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.jobs.models import Job

COLUMNS = (
    Job.id,
    Job.received_at,
    Job.slot_id,
    Job.status,
    Job.failure_reason,
    Job.fallback,
    Job.late_state,
    Job.client_fields,
    Job.query_string,
    Job.input_path,
    Job.input_mime,
    Job.result_path,
    Job.result_mime,
    Job.media_purged_at,
    Job.hidden_at,
)


async def photos_page(
    session: AsyncSession, event_id: str, after: tuple[datetime, str] | None, limit: int
) -> list[tuple]:
    """Up to ``limit`` booth photos of ``event_id`` received after ``after`` ``(received_at, id)``,
    oldest first, as rows of :data:`COLUMNS` (keyset pages: memory bounded whatever the event's size)."""
    query = select(*COLUMNS).where(Job.event_id == event_id, Job.source == "ingest")
    if after is not None:
        query = query.where(tuple_(Job.received_at, Job.id) > tuple_(*after))
    query = query.order_by(Job.received_at, Job.id).limit(limit)
    return [tuple(row) for row in await session.execute(query)]
