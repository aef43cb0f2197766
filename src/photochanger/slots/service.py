"""Slot configuration: read, validated change, templates."""

import asyncio
import uuid
from collections.abc import Iterable
from datetime import datetime

import structlog
from cachetools import LRUCache

from photochanger import faces, urls
from photochanger.db import Database, utcnow
from photochanger.imaging import EXTENSION_BY_MIME, check_image_bytes
from photochanger.jobs import service as jobs
from photochanger.prompts import BOOTH_FIELDS, unknown_fields
from photochanger.providers.registry import CATALOGUE, PROVIDER_CLASSES, InvalidSettings, validate_settings
from photochanger.slots import repository
from photochanger.slots.models import SlotAudit, SlotTemplate
from photochanger.slots.schemas import (
    TEMPLATE_ROLES,
    ProviderDescription,
    SlotSummary,
    SlotUpdate,
    SlotView,
    TemplateView,
)
from photochanger.storage import MediaStore

log = structlog.get_logger("photochanger.slots")
TEMPLATE_CACHE_ENTRIES = 64  # template files kept in memory (each at most the upload limit)


class TemplateCache:
    """Template files' bytes by media path, at most :data:`TEMPLATE_CACHE_ENTRIES` (each at most
    the upload limit), the least recently used dropped first. A template's file never changes (a
    new upload is a new path), so nothing here goes stale; one per process, in the app's context."""

    def __init__(self, entries: int = TEMPLATE_CACHE_ENTRIES) -> None:
        self._bytes: LRUCache[str, bytes] = LRUCache(entries)

    def get(self, path: str) -> bytes | None:
        """The bytes kept for ``path``, or None."""
        return self._bytes.get(path)

    def put(self, path: str, data: bytes) -> None:
        """Keep ``data`` for ``path``."""
        self._bytes[path] = data

    def drop(self, path: str) -> None:
        """Forget ``path`` (its template was deleted)."""
        self._bytes.pop(path, None)


class SlotNotFound(LookupError):
    """No slot (or template) with that id."""


class VersionConflict(Exception):
    """The slot changed since the caller read it (``If-Match`` mismatch); ``current`` is its version."""

    def __init__(self, current: int) -> None:
        super().__init__(current)
        self.current = current


def _check_prompt(prompt: str, known: Iterable[str], where: str) -> None:
    unknown = unknown_fields(prompt, known)
    if unknown:
        fields = ", ".join(f"{{{f}}}" for f in sorted(known))
        raise InvalidSettings(
            f"{where}prompt names {', '.join(f'{{{u}}}' for u in unknown)}, which the booth has not sent; "
            f"give a default like {{{unknown[0]}|text}} or use one of: {fields}",
            "unknown_prompt_fields",
            {"fields": list(unknown), "known": sorted(known)},
        )


def _apply(
    current: SlotView, change: SlotUpdate, public_base_url: str | None, known_fields: Iterable[str] = BOOTH_FIELDS
) -> dict:
    """The validated new values of ``change`` over ``current`` (raises ``InvalidSettings``):
    provider settings, prompt placeholders (``known_fields``: what the booth sends), people check."""
    values = change.model_dump(exclude_unset=True)
    provider = values.get("provider", current.provider)
    prompt = values.get("prompt", current.prompt)
    known = set(known_fields)
    if "prompt" in values:
        _check_prompt(prompt, known, "")
    if values.get("people_check") == "on" and not faces.available():
        raise InvalidSettings(faces.INSTALL_HINT, "local_ai_missing")
    settings = values.get("settings", current.settings if provider == current.provider else {})
    values["settings"] = validate_settings(provider, settings, prompt, public_base_url).model_dump(
        exclude_defaults=True
    )
    if "fallbacks" in values:
        routes = []
        for n, route in enumerate(values["fallbacks"], start=1):
            try:
                route = {"settings": {}, "prompt": None, **route}  # exclude_unset drops nested defaults
                checked = validate_settings(
                    route["provider"], route["settings"], route["prompt"] or prompt, public_base_url
                )
                if route["prompt"]:
                    _check_prompt(route["prompt"], known, "")
            except InvalidSettings as exc:
                raise InvalidSettings(f"fallback {n}: {exc}", exc.code, {**exc.params, "fallback": n}) from None
            routes.append({**route, "settings": checked.model_dump(exclude_defaults=True)})
        values["fallbacks"] = routes
    return values


def preview(
    current: SlotView, change: SlotUpdate, public_base_url: str | None, known_fields: Iterable[str] = BOOTH_FIELDS
) -> SlotView:
    """``current`` with ``change`` applied and validated, not saved (for test runs of unsaved forms)."""
    changed = _apply(current, change, public_base_url, known_fields)  # stored shapes (fallbacks as dicts)
    typed = SlotView.model_validate({**current.model_dump(), **changed})  # validated: typed like a read slot
    return current.model_copy(update={key: getattr(typed, key) for key in changed})  # templates kept as read


async def booth_fields(db: Database, slot_id: str) -> list[str]:
    """Fields a prompt of ``slot_id`` may name: DSLR Remote Pro's own, and every form field and
    ``query.<parameter>`` the booth sent to this slot in its last 50 uploads."""
    return sorted(set(BOOTH_FIELDS) | set(await jobs.recent_client_fields(db, slot_id)))


def summary(
    slot: SlotView, base: str, latest: tuple[str, datetime, str] | None, result: tuple[str, datetime, str] | None
) -> SlotSummary:
    """A slot-list row: ``latest`` is (status, time, id) of its newest job, ``result`` of its newest
    successful one (for the thumbnail)."""
    defaults = PROVIDER_CLASSES[slot.provider].settings_model().model_dump()
    model = next((v for k in ("model", "method") if (v := slot.settings.get(k) or defaults.get(k))), None)
    return SlotSummary(
        id=slot.id,
        display_name=slot.display_name,
        provider=slot.provider,
        model=model,
        is_active=slot.is_active,
        version=slot.version,
        updated_at=slot.updated_at,
        ingest_url=urls.ingest_url(base, slot.id),
        last_job_status=latest[0] if latest else None,
        last_job_at=latest[1] if latest else None,
        last_result_thumbnail_url=urls.thumbnail_url(base, result[2]) if result else None,
        last_result_url=urls.result_url(base, result[2]) if result else None,
    )


async def list_slots(db: Database) -> list[SlotView]:
    """All 15 slots (without templates)."""
    async with db.transaction() as session:
        return [SlotView.model_validate(slot) for slot in await repository.list_all(session)]


async def get_slot(db: Database, slot_id: str) -> SlotView:
    """One slot with its templates. Raises :class:`SlotNotFound`."""
    async with db.transaction() as session:
        found = await repository.get_with_templates(session, slot_id)
    if found is None:
        raise SlotNotFound(slot_id)
    slot, templates = found
    view = SlotView.model_validate(slot)
    view.templates = [TemplateView.model_validate(t) for t in templates]
    return view


async def update_slot(
    db: Database,
    slot_id: str,
    change: SlotUpdate,
    *,
    by: str | None = None,
    expected_version: int | None = None,
    public_base_url: str | None = None,
) -> SlotView:
    """Apply ``change`` after validating provider, prompt and settings together; bumps ``version``,
    records ``updated_by`` and an audit row with the before/after values of what changed.

    Raises :class:`SlotNotFound`, :class:`VersionConflict` (``expected_version`` given and stale;
    the row is locked while compared) and ``photochanger.providers.registry.InvalidSettings``.
    """
    known = await booth_fields(db, slot_id)
    async with db.transaction() as session:
        slot = await repository.get(session, slot_id, for_update=True)
        if slot is None:
            raise SlotNotFound(slot_id)
        if expected_version is not None and slot.version != expected_version:
            raise VersionConflict(slot.version)
        current = SlotView.model_validate(slot)
        values = _apply(current, change, public_base_url, known)
        before = current.model_dump(mode="json")
        diff = {k: {"before": before[k], "after": v} for k, v in values.items() if before[k] != v}
        for key, value in values.items():
            setattr(slot, key, value)
        slot.version += 1
        slot.updated_at = utcnow()
        slot.updated_by = by
        await repository.add_audit(
            session,
            SlotAudit(slot_id=slot_id, version=slot.version, changed_by=by, changed_at=slot.updated_at, changes=diff),
        )
        return SlotView.model_validate(slot)


async def add_template(db: Database, store: MediaStore, slot_id: str, data: bytes, role: str) -> TemplateView:
    """Check ``data`` is a JPEG/PNG/WebP image and attach it to the slot with ``role``.

    Raises :class:`SlotNotFound`, ``ValueError`` for a bad role and
    ``photochanger.imaging.UnsupportedImage`` for a bad image.
    """
    if role not in TEMPLATE_ROLES:
        raise ValueError(f"role must be one of {', '.join(TEMPLATE_ROLES)}")
    checked = await asyncio.to_thread(check_image_bytes, data)
    template_id = uuid.uuid4().hex
    relative = f"templates/{slot_id}/{template_id}{EXTENSION_BY_MIME[checked.mime]}"
    async with db.transaction() as session:
        if await repository.get(session, slot_id) is None:
            raise SlotNotFound(slot_id)
    await store.put(relative, data)
    template = SlotTemplate(
        id=template_id,
        slot_id=slot_id,
        role=role,
        path=relative,
        mime=checked.mime,
        size_bytes=len(data),
        width=checked.width,
        height=checked.height,
        created_at=utcnow(),
    )
    try:
        async with db.transaction() as session:
            await repository.add_template(session, template)
    except Exception:
        await store.delete(relative)
        raise
    return TemplateView.model_validate(template)


async def remove_template(
    db: Database, store: MediaStore, slot_id: str, template_id: str, cache: TemplateCache | None = None
) -> None:
    """Delete the template row and its file (and its bytes from ``cache``). Raises :class:`SlotNotFound`."""
    async with db.transaction() as session:
        template = await repository.delete_template(session, slot_id, template_id)
    if template is None:
        raise SlotNotFound(f"{slot_id}/{template_id}")
    if cache is not None:
        cache.drop(template.path)
    await store.delete(template.path)


async def template_file(db: Database, slot_id: str, template_id: str) -> tuple[str, str]:
    """Media path and MIME type of one template. Raises :class:`SlotNotFound`."""
    async with db.transaction() as session:
        rows = await repository.list_templates(session, slot_id)
    row = next((r for r in rows if r.id == template_id), None)
    if row is None:
        raise SlotNotFound(f"{slot_id}/{template_id}")
    return row.path, row.mime


async def load_templates(
    store: MediaStore, slot: SlotView, cache: TemplateCache | None = None
) -> list[tuple[TemplateView, bytes]]:
    """The templates of ``slot`` (as read with it: no second query) with their bytes, for a
    provider call. With ``cache``, bytes read once are kept there: no store round trip per photo.
    A template deleted since
    ``slot`` was read (its file gone) is left out, as if deleted before the photo came: logged
    ``template.gone``. Raises :class:`OSError` when the store fails."""
    loaded = []
    for row in slot.templates:
        if row.path is None:
            continue
        data = cache.get(row.path) if cache is not None else None
        if data is None:
            try:
                data = await store.get(row.path)
            except FileNotFoundError:
                log.warning("template.gone", slot_id=slot.id, template_id=row.id)
                continue
            if cache is not None:
                cache.put(row.path, data)
        loaded.append((row, data))
    return loaded


def provider_catalogue() -> list[ProviderDescription]:
    """Every provider a slot can use (see :mod:`photochanger.providers.registry`)."""
    return [ProviderDescription(**entry.describe()) for entry in CATALOGUE.values()]


def people_check_available() -> bool:
    """True when the face detector of the people check is installed (the local-ai extra)."""
    return faces.available()
