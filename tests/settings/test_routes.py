"""Settings API: readable ingest password with rotation, ranges, write-only provider keys."""

from sqlalchemy import select

from photochanger.settings.models import AppSetting
from tests.conftest import ADMIN_USER, GEMINI_KEY, INGEST_PASSWORD


async def test_ingest_password_rotation_applies_at_once(svc):
    await svc.slot("slot-001", "local")
    shown = svc.api.get("/api/settings").json()
    assert shown["ingest_password"] == INGEST_PASSWORD
    try:
        r = svc.api.put("/api/settings", json={"ingest_password": "rotated-pass-99"})
        assert r.status_code == 200 and r.json()["ingest_password_updated_by"] == ADMIN_USER
        assert svc.post("slot-001").status == 401
        assert svc.post("slot-001", password="rotated-pass-99").status == 200
    finally:
        svc.api.put("/api/settings", json={"ingest_password": INGEST_PASSWORD})


async def test_ranges_are_enforced(svc):
    assert svc.api.put("/api/settings", json={"sync_response_seconds": 5}).status_code == 422
    assert svc.api.put("/api/settings", json={"result_ttl_hours": 721}).status_code == 422
    assert svc.api.put("/api/settings", json={"provider_keys": {"dalle": "x"}}).status_code == 422
    ok = svc.api.put("/api/settings", json={"sync_response_seconds": 30, "slot_max_in_flight": 2})
    assert ok.status_code == 200 and ok.json()["sync_response_seconds"] == 30 and ok.json()["slot_max_in_flight"] == 2
    svc.api.put("/api/settings", json={"slot_max_in_flight": 4})


async def test_provider_key_is_write_only_encrypted_and_used_without_restart(svc, fake_gemini):
    await svc.slot("slot-002", "gemini", prompt="Snow")
    env_view = svc.api.get("/api/settings").json()["provider_keys"]["gemini"]
    assert env_view == {"configured": True, "last4": [GEMINI_KEY[-4:]], "updated_at": None, "source": "environment"}
    try:
        r = svc.api.put("/api/settings", json={"provider_keys": {"gemini": "wrong-key-ABCD"}})
        assert r.status_code == 200 and "wrong-key-ABCD" not in r.text
        assert r.json()["provider_keys"]["gemini"]["last4"] == ["ABCD"]
        async with svc.db.transaction() as session:
            stored = await session.scalar(select(AppSetting.value).where(AppSetting.key == "provider_key.gemini"))
        assert "wrong-key-ABCD" not in str(stored)
        refused = svc.post("slot-002")
        assert refused.status == 503 and refused.json()["failure_reason"] == "provider_unavailable"
        svc.api.put("/api/settings", json={"provider_keys": {"gemini": GEMINI_KEY}})
        assert svc.post("slot-002").status == 200
        assert fake_gemini.requests[-1].headers["x-goog-api-key"] == GEMINI_KEY
    finally:
        svc.api.put("/api/settings", json={"provider_keys": {"gemini": ""}})
    assert svc.api.get("/api/settings").json()["provider_keys"]["gemini"]["source"] == "environment"


async def test_media_cleanup_endpoint_reports(svc):
    r = svc.api.post("/api/media/cleanup")
    assert r.status_code == 200 and set(r.json()) == {"jobs", "files", "bytes", "temp_files"}
