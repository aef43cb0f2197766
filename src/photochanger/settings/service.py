"""Run-time settings: seeding from the environment, loading, validated changes, provider keys.

Provider keys are stored encrypted (Fernet, key from ``SECRET_KEY`` or ``DATA_DIR/secret.key``)
and never returned: the API shows only whether a key is set and its last four characters.
"""

import functools
import secrets
from collections.abc import Callable
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from pydantic import TypeAdapter

from photochanger.config import Config
from photochanger.db import Database, utcnow
from photochanger.providers.registry import PROVIDERS_WITH_KEYS, environment_keys
from photochanger.settings import repository
from photochanger.settings.schemas import (
    SETTING_KEYS,
    ModelPrices,
    NewIngestPassword,
    ProviderKeyView,
    RuntimeSettings,
    SettingsUpdate,
    SettingsView,
)

PASSWORD_META = "ingest_password_meta"


def _key_name(provider: str) -> str:
    return f"provider_key.{provider}"


async def seed(db: Database, config: Config) -> str | None:
    """Store the environment's initial values for settings not yet in the database (processes
    that start together store one set: the first one's).

    Returns the ingest password if it was generated now (so the caller prints it once), else None.
    """
    generated = None
    async with db.transaction() as session:
        stored = await repository.get_all(session)
        initial = {
            "ingest_password": config.ingest_password,
            "sync_response_seconds": config.sync_response_seconds,
            "result_ttl_hours": config.result_ttl_hours,
            "slot_max_in_flight": config.slot_max_in_flight,
            "provider_max_in_flight": config.provider_max_in_flight,
        }
        if "ingest_password" not in stored and not config.ingest_password:
            generated = initial["ingest_password"] = secrets.token_urlsafe(12)
        initial["webhook_secret"] = secrets.token_urlsafe(32)  # signs photo webhooks (kept once stored)
        for key, value in initial.items():  # replicas starting together: the first one's values stay
            if key not in stored and not await repository.put_if_absent(session, key, value):
                if key == "ingest_password":
                    generated = None  # another process generated (and printed) the one stored
    return generated


def _runtime(stored: dict[str, object]) -> RuntimeSettings:
    return RuntimeSettings.model_validate({k: v for k, v in stored.items() if k in SETTING_KEYS})


async def load(db: Database) -> RuntimeSettings:
    """The current settings (one SELECT). Raises ``pydantic.ValidationError`` if never seeded."""
    async with db.transaction() as session:
        return _runtime(await repository.get_all(session))


async def load_with_keys(db: Database, config: Config) -> tuple[RuntimeSettings, Callable[[str], list[str]]]:
    """The current settings and a function giving a provider's API keys (as :func:`provider_keys`,
    decrypted on first use), from one SELECT: what a photo needs from the settings, read once when
    its job opens."""
    async with db.transaction() as session:
        stored = await repository.get_all(session)

    keys = functools.cache(lambda provider: _usable_keys(stored.get(_key_name(provider)), config, provider))
    return _runtime(stored), keys


async def set_value(db: Database, key: str, raw: str) -> RuntimeSettings:
    """Validate and store one setting given as text (``KeyError`` for an unknown key,
    ``pydantic.ValidationError`` for a bad value). Returns the settings after the change."""
    if key not in SETTING_KEYS:
        raise KeyError(f"unknown setting {key!r}; known: {', '.join(SETTING_KEYS)}")
    if key == "ingest_password":  # the rule of every way a password is set (raises ValidationError)
        TypeAdapter[str](NewIngestPassword).validate_python(raw)  # pyright: ignore[reportArgumentType]  (Annotated)
    value: object = raw
    if key == "model_prices":  # JSON: {"model": [text in, image in, image out]}; "" or {} removes it
        value = TypeAdapter(ModelPrices).validate_json(raw) if raw.strip() else None
        value = value or None
    async with db.transaction() as session:
        current = _runtime(await repository.get_all(session))
        updated = current.model_validate({**current.model_dump(), key: value})
        if getattr(updated, key) is None:
            await repository.remove(session, key)
        else:
            await repository.put(session, key, getattr(updated, key))
        if key == "ingest_password":
            await repository.put(session, PASSWORD_META, {"updated_at": utcnow().isoformat(), "updated_by": "cli"})
    return updated


async def view(db: Database, config: Config) -> SettingsView:
    """Everything ``GET /api/settings`` shows."""
    async with db.transaction() as session:
        stored = await repository.get_all(session)
    meta = stored.get(PASSWORD_META) or {}
    keys = {}
    for provider in PROVIDERS_WITH_KEYS:
        entry = stored.get(_key_name(provider))
        env_key = environment_keys(config, provider)
        if entry:
            keys[provider] = ProviderKeyView(
                configured=True, last4=entry["last4"], updated_at=entry["updated_at"], source="database"
            )
        else:
            env_keys = split_keys(env_key)
            keys[provider] = ProviderKeyView(
                configured=bool(env_keys), last4=[k[-4:] for k in env_keys], source="environment" if env_keys else None
            )
    return SettingsView(
        **_runtime(stored).model_dump(),
        ingest_password_updated_at=meta.get("updated_at"),
        ingest_password_updated_by=meta.get("updated_by"),
        provider_keys=keys,
    )


async def update(db: Database, config: Config, change: SettingsUpdate, by: str) -> SettingsView:
    """Apply ``change`` in one transaction; ``ValueError`` for an unknown provider key name."""
    values = change.model_dump(exclude_unset=True, exclude_none=True)
    provider_keys = values.pop("provider_keys", {})
    unknown = set(provider_keys) - set(PROVIDERS_WITH_KEYS)
    if unknown:
        raise ValueError(f"no provider key for {', '.join(sorted(unknown))}")
    fernet = Fernet(config.resolved_secret_key)
    now = utcnow().isoformat()
    async with db.transaction() as session:
        for key, value in values.items():
            await repository.put(session, key, value)
        for key in ("alert_webhook_url", "photo_webhook_url", "daily_spend_cap_usd", "model_prices"):
            if key in change.model_fields_set and not getattr(change, key):  # given as null, '' or {}: removed
                await repository.remove(session, key)
        if "ingest_password" in values:
            await repository.put(session, PASSWORD_META, {"updated_at": now, "updated_by": by})
        for provider, raw in provider_keys.items():
            keys = split_keys(raw)
            if not keys:
                await repository.remove(session, _key_name(provider))
                continue
            tokens = [fernet.encrypt(key.encode()).decode() for key in keys]
            entry = {"ciphertexts": tokens, "last4": [k[-4:] for k in keys], "updated_at": now, "updated_by": by}
            await repository.put(session, _key_name(provider), entry)
    return await view(db, config)


def split_keys(raw: str | list[str] | None) -> list[str]:
    """Keys from a list or a comma/newline separated string, blanks dropped."""
    parts = raw if isinstance(raw, list) else (raw or "").replace("\n", ",").split(",")
    return [part.strip() for part in parts if part.strip()]


async def provider_keys(db: Database, config: Config, provider: str) -> list[str]:
    """The keys to use for ``provider`` (round-robin): the stored ones, else the environment's."""
    if provider not in PROVIDERS_WITH_KEYS:
        return []
    async with db.transaction() as session:
        entry = await repository.get(session, _key_name(provider))
    return _usable_keys(entry, config, provider)


def _usable_keys(entry: Any, config: Config, provider: str) -> list[str]:
    """Decrypted stored keys of ``provider`` (its ``provider_key.*`` setting), else the environment's;
    none for a provider that takes no key."""
    if provider not in PROVIDERS_WITH_KEYS:
        return []
    if entry:
        fernet = Fernet(config.resolved_secret_key)
        try:
            return [fernet.decrypt(token.encode()).decode() for token in entry["ciphertexts"]]
        except InvalidToken:
            return []  # SECRET_KEY changed: stored keys are unreadable, treat as not configured
    return split_keys(environment_keys(config, provider))
