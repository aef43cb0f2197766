"""Job ends the database refused are kept in memory and written once it is back."""

import asyncio
from datetime import timedelta

from sqlalchemy import select

from photochanger.db import Database, utcnow
from photochanger.jobs import service as jobs
from photochanger.jobs.models import Job
from photochanger.jobs.schemas import JobEnd
from photochanger.migrations import upgrade


def _end(status: str = "done") -> JobEnd:
    return JobEnd(status=status, http_status=200 if status == "done" else 502, failure_reason=None,
                  failure_detail=None, total_ms=5, attempts=[])  # fmt: skip


async def _database(tmp_path) -> Database:
    url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    for n in range(3):
        now = utcnow()
        await jobs.open_job(db, job_id=f"job{n}", slot_id="slot-001", source="ingest", received_at=now,
                            deadline_at=now + timedelta(seconds=48), client_ip=None, query_string=None)  # fmt: skip
    return db


async def _statuses(db: Database) -> list[str]:
    async with db.transaction() as session:
        return list(await session.scalars(select(Job.status).order_by(Job.id)))


async def test_ends_refused_are_kept_and_written_in_order_when_the_database_is_back(tmp_path):
    db = await _database(tmp_path)
    kept = jobs.UnwrittenEnds()
    (tmp_path / "jobs.db").rename(tmp_path / "away.db")  # the database takes no transaction
    assert not await jobs.finish_or_keep(db, kept, "job0", _end())
    assert not await jobs.finish_or_keep(db, kept, "job1", _end("failed"))
    assert await kept.flush(db) == 0 and len(kept) == 2
    (tmp_path / "away.db").rename(tmp_path / "jobs.db")
    assert await kept.flush(db) == 2 and len(kept) == 0
    assert await _statuses(db) == ["done", "failed", "pending"]
    await db.dispose()


def test_past_the_limit_the_oldest_end_is_dropped():
    kept = jobs.UnwrittenEnds(limit=2)
    for n in range(3):
        kept.keep(f"job{n}", _end())
    kept.keep("job1", _end("failed"))  # the same job again replaces its end
    assert len(kept) == 2 and list(kept._ends) == ["job2", "job1"]
