"""SQL for slots and their templates."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.slots.models import Slot, SlotAudit, SlotTemplate


async def get(session: AsyncSession, slot_id: str, for_update: bool = False) -> Slot | None:
    """The slot, or None; ``for_update`` locks the row (PostgreSQL) until the transaction ends."""
    return await session.get(Slot, slot_id, with_for_update=for_update)


async def get_with_templates(session: AsyncSession, slot_id: str) -> tuple[Slot, list[SlotTemplate]] | None:
    """The slot and its templates (oldest first) from one statement (an outer join), or None."""
    rows = await session.execute(
        select(Slot, SlotTemplate)
        .outerjoin(SlotTemplate, SlotTemplate.slot_id == Slot.id)
        .where(Slot.id == slot_id)
        .order_by(SlotTemplate.created_at, SlotTemplate.id)
    )
    found = rows.all()
    if not found:
        return None
    return found[0][0], [template for _, template in found if template is not None]


async def add_audit(session: AsyncSession, audit: SlotAudit) -> None:
    """Record one slot change."""
    session.add(audit)


async def list_all(session: AsyncSession) -> list[Slot]:
    """All slots in id order."""
    return list(await session.scalars(select(Slot).order_by(Slot.id)))


async def list_templates(session: AsyncSession, slot_id: str) -> list[SlotTemplate]:
    """Templates of one slot, oldest first."""
    rows = await session.scalars(
        select(SlotTemplate).where(SlotTemplate.slot_id == slot_id).order_by(SlotTemplate.created_at, SlotTemplate.id)
    )
    return list(rows)


async def add_template(session: AsyncSession, template: SlotTemplate) -> None:
    """Insert a template row."""
    session.add(template)


async def delete_template(session: AsyncSession, slot_id: str, template_id: str) -> SlotTemplate | None:
    """Delete and return the template, or None if the slot has no such template."""
    template = await session.get(SlotTemplate, template_id)
    if template is None or template.slot_id != slot_id:
        return None
    await session.delete(template)
    return template
