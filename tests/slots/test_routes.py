"""Slot admin API: list, detail, versioned updates with audit, templates, test runs."""

import io
import json

from PIL import Image, ImageDraw
from sqlalchemy import select

from photochanger.slots.models import SlotAudit
from tests.conftest import ADMIN_USER, PHOTOS


def _frame_png() -> bytes:
    frame = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    ImageDraw.Draw(frame).rectangle([0, 0, 399, 299], outline=(0, 0, 255, 255), width=30)
    buffer = io.BytesIO()
    frame.save(buffer, "PNG")
    return buffer.getvalue()


async def test_slot_list_has_ingest_urls_and_last_job(svc):
    await svc.slot("slot-001", "local")
    posted = svc.post("slot-001")
    rows = svc.api.get("/api/slots").json()
    assert [r["id"] for r in rows] == [f"slot-{n:03d}" for n in range(1, 16)]
    first = rows[0]
    assert first["ingest_url"] == f"{svc.base_url}/api/ingest/slot-001"
    assert first["last_job_status"] == "done" and first["provider"] == "local" and first["is_active"] is True
    assert posted.status == 200


async def test_slot_detail_with_recent_results_and_thumbnails(svc):
    await svc.slot("slot-001", "local")
    posted = svc.post("slot-001")
    r = svc.api.get("/api/slots/slot-001")
    detail = r.json()
    assert r.headers["etag"] == f'"{detail["version"]}"'
    recent = detail["recent_results"]
    assert 1 <= len(recent) <= 10 and recent[0]["id"] == posted.headers["x-job-id"]
    thumb = svc.api.get(recent[0]["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.content)).size) == 320
    assert svc.api.get("/api/slots/slot-099").status_code == 404


async def test_update_with_if_match_conflict_validation_and_audit(svc):
    await svc.slot("slot-007", "local")
    version = svc.api.get("/api/slots/slot-007").json()["version"]
    ok = svc.api.put(
        "/api/slots/slot-007",
        json={"display_name": "Beach", "settings": {"look": "sepia"}},
        headers={"If-Match": f'"{version}"'},
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["version"] == version + 1 and body["updated_by"] == ADMIN_USER and body["display_name"] == "Beach"
    stale = svc.api.put("/api/slots/slot-007", json={"display_name": "Lost"}, headers={"If-Match": f'"{version}"'})
    assert stale.status_code == 412 and stale.json()["failure_reason"] == "version_conflict"
    bad = svc.api.put(
        "/api/slots/slot-007", json={"provider": "gemini", "settings": {"image_size": "2K"}, "prompt": "x"}
    )
    assert bad.status_code == 422 and "image_size" in bad.json()["detail"]
    unknown = svc.api.put("/api/slots/slot-007", json={"settings": {"colour": "red"}})
    assert unknown.status_code == 422 and "colour: unknown setting" in unknown.json()["detail"]
    async with svc.db.transaction() as session:
        audit = (
            await session.scalars(
                select(SlotAudit).where(SlotAudit.slot_id == "slot-007").order_by(SlotAudit.id.desc())
            )
        ).first()
    assert audit.changed_by == ADMIN_USER and audit.version == version + 1
    assert (
        audit.changes["display_name"] == {"before": "Slot 7", "after": "Beach"}
        or audit.changes["display_name"]["after"] == "Beach"
    )


async def test_template_upload_is_checked_used_and_deleted(svc):
    await svc.slot("slot-008", "local")
    added = svc.api.post(
        "/api/slots/slot-008/templates",
        files={"file": ("frame.png", _frame_png(), "image/png")},
        data={"role": "template"},
    )
    assert added.status_code == 201, added.text
    template = added.json()
    assert (template["mime"], template["width"], template["height"]) == ("image/png", 400, 300)
    framed = svc.post("slot-008", PHOTOS / "astronaut.jpg")
    red, _green, blue = Image.open(io.BytesIO(framed.body)).convert("RGB").getpixel((5, 256))
    assert blue > 200 and red < 60  # the blue frame is composited over the photo
    not_image = svc.api.post("/api/slots/slot-008/templates", files={"file": ("x.png", b"nope", "image/png")})
    assert not_image.status_code == 415
    huge = svc.api.post(
        "/api/slots/slot-008/templates", files={"file": ("x.png", b"\x89PNG" + b"0" * (10 * 1024 * 1024), "image/png")}
    )
    assert huge.status_code == 413
    bad_role = svc.api.post(
        "/api/slots/slot-008/templates", files={"file": ("f.png", _frame_png(), "image/png")}, data={"role": "sticker"}
    )
    assert bad_role.status_code == 422
    files = list((svc.media / "templates" / "slot-008").iterdir())
    assert len(files) == 1
    assert svc.api.delete(f"/api/slots/slot-008/templates/{template['id']}").status_code == 204
    assert not files[0].exists()
    assert svc.api.delete(f"/api/slots/slot-008/templates/{template['id']}").status_code == 404


async def test_test_run_uses_unsaved_changes_without_saving_them(svc):
    await svc.slot("slot-009", "local", settings={"look": "warm"}, is_active=False)
    r = svc.api.post(
        "/api/slots/slot-009/test-run",
        files={"test_image": ("me.jpg", (PHOTOS / "astronaut.jpg").read_bytes(), "image/jpeg")},
        data={"slot_payload": json.dumps({"settings": {"look": "bw"}})},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "done" and body["duration_ms"] >= 0 and body["attempts"][0]["outcome"] == "success"
    image = Image.open(io.BytesIO(svc.api.get(body["result_url"]).content)).convert("RGB")
    red, green, blue = image.getpixel((256, 300))
    assert red == green == blue  # bw from the unsaved payload
    job = await svc.job(body["job_id"])
    assert job.source == "ui_test"
    assert svc.api.get("/api/slots/slot-009").json()["settings"] == {"look": "warm"}
    invalid = svc.api.post(
        "/api/slots/slot-009/test-run",
        files={"test_image": ("me.jpg", (PHOTOS / "astronaut.jpg").read_bytes(), "image/jpeg")},
        data={"slot_payload": json.dumps({"settings": {"look": "neon"}})},
    )
    assert invalid.status_code == 422 and invalid.json()["failure_reason"] == "invalid_settings"
    problem = invalid.json()["problem"]  # for a translation: a stable code and its values
    assert problem["code"] == "invalid_values" and problem["problems"][0]["field"] == "look"


async def test_invalid_settings_name_a_stable_problem_for_translations(svc):
    before = svc.api.get("/api/slots/slot-011").json()
    bare = svc.api.put("/api/slots/slot-011", json={"provider": "gemini", "prompt": ""})
    assert bare.status_code == 422 and bare.json()["problem"] == {"code": "prompt_required", "provider": "gemini"}
    fallback = {"provider": "local", "settings": {"look": "neon"}}
    nested = svc.api.put("/api/slots/slot-011", json={"provider": "local", "fallbacks": [fallback]})
    problem = nested.json()["problem"]
    assert nested.status_code == 422 and problem["code"] == "invalid_values" and problem["fallback"] == 1
    assert svc.api.get("/api/slots/slot-011").json()["version"] == before["version"]  # nothing was saved


async def test_test_run_reports_provider_errors_like_ingest(svc, fake_gemini):
    await svc.slot("slot-010", "gemini", prompt="Make it snow")
    fake_gemini.reset("image_safety")
    photo = {"test_image": ("me.jpg", (PHOTOS / "astronaut.jpg").read_bytes(), "image/jpeg")}
    r = svc.api.post("/api/slots/slot-010/test-run", files=photo)
    assert r.status_code == 422 and r.json()["failure_reason"] == "content_rejected" and r.json()["job_id"]
