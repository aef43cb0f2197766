"""Alembic is the only source of the schema; it matches the models and seeds the 15 slots."""

import asyncio

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
