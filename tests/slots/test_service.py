"""Slot service rules that need no HTTP: templates a running photo reads."""

from photochanger.slots import service as slots
from photochanger.storage import FolderStore
from tests.conftest import PHOTOS


async def test_a_template_deleted_after_the_slot_was_read_is_left_out_not_a_crash(svc):
    await svc.slot("slot-009", "local")
    store = FolderStore(svc.media)
    kept = await slots.add_template(svc.db, store, "slot-009", (PHOTOS / "camera.png").read_bytes(), "template")
    deleted = await slots.add_template(svc.db, store, "slot-009", (PHOTOS / "camera.png").read_bytes(), "background")
    slot = await slots.get_slot(svc.db, "slot-009")  # a photo has read its slot…
    await slots.remove_template(svc.db, store, "slot-009", deleted.id)  # …then the admin deletes a template
    try:
        assert [row.id for row, _data in await slots.load_templates(store, slot)] == [kept.id]
    finally:
        await slots.remove_template(svc.db, store, "slot-009", kept.id)
