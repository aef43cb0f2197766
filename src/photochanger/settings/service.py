"""Run-time settings: seeding from the environment, loading, validated changes."""

import secrets

from photochanger.config import Config
from photochanger.db import Database
from photochanger.settings import repository
from photochanger.settings.schemas import SETTING_KEYS, RuntimeSettings


async def seed(db: Database, config: Config) -> str | None:
    """Store the environment's initial values for settings not yet in the database.

    Returns the ingest password if it was generated now (so the caller prints it once), else None.
    """
    generated = None
    async with db.transaction() as session:
        stored = await repository.get_all(session)
        initial = {
            "ingest_password": config.ingest_password,
            "sync_response_seconds": config.sync_response_seconds,
            "result_ttl_hours": config.result_ttl_hours,
        }
        if "ingest_password" not in stored and not config.ingest_password:
            generated = initial["ingest_password"] = secrets.token_urlsafe(12)
        for key, value in initial.items():
            if key not in stored:
                await repository.put(session, key, value)
    return generated


async def load(db: Database) -> RuntimeSettings:
    """The current settings (one SELECT). Raises ``pydantic.ValidationError`` if never seeded."""
    async with db.transaction() as session:
        return RuntimeSettings.model_validate(await repository.get_all(session))


async def set_value(db: Database, key: str, raw: str) -> RuntimeSettings:
    """Validate and store one setting given as text (``KeyError`` for an unknown key,
    ``pydantic.ValidationError`` for a bad value). Returns the settings after the change."""
    if key not in SETTING_KEYS:
        raise KeyError(f"unknown setting {key!r}; known: {', '.join(SETTING_KEYS)}")
    async with db.transaction() as session:
        current = RuntimeSettings.model_validate(await repository.get_all(session))
        updated = current.model_validate({**current.model_dump(), key: raw})
        await repository.put(session, key, getattr(updated, key))
    return updated
