"""Alembic is the only source of the schema; it matches the models and seeds the 15 slots."""

import asyncio

import pytest
from alembic import command

from photochanger.migrations import alembic_config
from photochanger.providers.registry import PROVIDER_CLASSES
from photochanger.slots import service as slots


async def test_models_match_migrations(service):
    await asyncio.to_thread(command.check, alembic_config(service.database_url))


async def test_fifteen_fixed_slots_are_seeded(service):
    all_slots = await slots.list_slots(service.db)
    assert [s.id for s in all_slots] == [f"slot-{n:03d}" for n in range(1, 16)]
    assert all(s.provider in PROVIDER_CLASSES and s.display_name for s in all_slots)


@pytest.mark.database_independent
async def test_photos_from_before_events_belong_to_no_event_and_are_still_listed(tmp_path):
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from photochanger.db import Database
    from photochanger.jobs import service as jobs
    from photochanger.migrations import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(upgrade, url, "0014")  # a database from before events
    db = Database(url)
    try:
        at = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
        async with db.transaction(write=True) as session:
            await session.execute(
                sa.text(
                    "INSERT INTO jobs (id, slot_id, source, status, attempts, received_at, deadline_at, client_fields)"
                    " VALUES ('a' || hex(randomblob(15)), 'slot-001', 'ingest', 'done', 1, :at, :at, '{}')"
                ),
                {"at": at.replace(tzinfo=None).isoformat(sep=" ")},
            )
        await asyncio.to_thread(upgrade, url, "head")
        page, _cursor = await jobs.list_page(db, limit=10)
        assert len(page) == 1 and page[0].event_id is None
        assert (await jobs.list_page(db, limit=10, event_id="nope"))[0] == []
    finally:
        await db.dispose()
