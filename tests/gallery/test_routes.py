"""Public gallery: shared for a time, guest-safe listing, per-IP rate limit."""

import time
import uuid


async def test_gallery_is_closed_until_shared_and_lists_booth_results(svc):
    svc.api.delete("/api/gallery/share")
    closed = svc.http.get("/api/public/gallery")
    assert closed.status_code == 403 and closed.json()["failure_reason"] == "gallery_not_shared"
    await svc.slot("slot-015", "local")
    job_id = svc.post("slot-015").headers["x-job-id"]
    state = svc.api.post("/api/gallery/share", json={"minutes": 1, "include_earlier": True}).json()
    assert state["active"] is True and state["public_url"].endswith("/gallery")
    assert svc.api.post("/api/gallery/share", json={"minutes": 0}).status_code == 422
    listing = svc.http.get(
        f"{svc.base_url}/api/public/gallery", headers={"X-Forwarded-For": f"10.7.{uuid.uuid4().int % 250}.1"}
    )
    assert listing.status_code == 200 and listing.headers["cache-control"] == "no-cache"
    items = listing.json()["items"]
    assert items[0]["result_url"].endswith(job_id) and set(items[0]) == {"result_url", "thumbnail_url", "taken_at"}
    assert svc.api.get("/api/gallery/share").json()["active"] is True
    assert svc.api.delete("/api/gallery/share").status_code == 204
    assert svc.http.get("/api/public/gallery").status_code == 403


async def test_public_gallery_rate_limit_per_ip(svc):
    svc.api.post("/api/gallery/share", json={"minutes": 5})
    try:
        if time.gmtime().tm_sec > 45:  # keep the 31 requests inside one minute window
            time.sleep(61 - time.gmtime().tm_sec)
        ip = f"10.6.{uuid.uuid4().int % 250}.9"
        codes = [svc.http.get("/api/public/gallery", headers={"X-Forwarded-For": ip}).status_code for _ in range(31)]
        assert codes[:30] == [200] * 30 and codes[30] == 429
        other = svc.http.get("/api/public/gallery", headers={"X-Forwarded-For": "10.5.5.5"})
        assert other.status_code == 200
    finally:
        svc.api.delete("/api/gallery/share")


async def test_a_hidden_photo_leaves_the_gallery_and_its_links_and_deleted_media_is_gone(svc):
    await svc.slot("slot-015", "local")
    svc.api.post("/api/gallery/share", json={"minutes": 5})  # from now on
    kept, hidden = (svc.post("slot-015").headers["x-job-id"] for _ in range(2))
    try:

        def listed() -> list[str]:
            ip = f"10.8.{uuid.uuid4().int % 250}.2"
            items = svc.http.get("/api/public/gallery", headers={"X-Forwarded-For": ip}).json()["items"]
            return [item["result_url"].rsplit("/", 1)[1] for item in items]

        assert {kept, hidden} <= set(listed())
        assert svc.api.patch(f"/api/jobs/{hidden}", json={"hidden": True}).status_code == 204
        assert hidden not in listed() and kept in listed()  # gone from the gallery at once
        for path in (
            f"/public/results/{hidden}",
            f"/public/results/{hidden}/thumbnail",
            f"/public/results/{hidden}/qr.svg",
        ):
            answer = svc.http.get(f"{path}")
            assert answer.status_code == 404 and answer.json()["failure_reason"] == "result_not_found", path
        assert svc.api.get(f"/api/jobs/{hidden}").json()["hidden_at"] is not None
        assert svc.api.patch(f"/api/jobs/{hidden}", json={"hidden": False}).status_code == 204
        assert hidden in listed() and svc.http.get(f"/public/results/{hidden}").status_code == 200

        job = await svc.job(kept)
        assert svc.api.delete(f"/api/jobs/{kept}/media").status_code == 204
        assert not (svc.media / job.input_path).exists() and not (svc.media / job.result_path).exists()
        gone = svc.http.get(f"/public/results/{kept}")
        assert gone.status_code == 410 and gone.json()["failure_reason"] == "result_expired"
        assert kept not in listed() and svc.api.get(f"/api/jobs/{kept}").json()["status"] == "done"  # row kept
        assert svc.api.patch("/api/jobs/" + "0" * 32, json={"hidden": True}).status_code == 404
        assert svc.api.delete("/api/jobs/" + "0" * 32 + "/media").status_code == 404
    finally:
        svc.api.delete("/api/gallery/share")


async def test_sharing_chosen_slots_from_now_on_keeps_earlier_and_other_photos_private(svc):
    await svc.slot("slot-002", "local")
    await svc.slot("slot-003", "local")
    earlier = svc.post("slot-002").headers["x-job-id"]  # "last week's event"
    state = svc.api.post("/api/gallery/share", json={"minutes": 5, "slots": ["slot-002"], "title": "Anna & Ivan"})
    assert state.status_code == 200 and state.json()["slots"] == ["slot-002"] and state.json()["since"]
    try:
        fresh = svc.post("slot-002").headers["x-job-id"]
        other = svc.post("slot-003").headers["x-job-id"]
        ip = f"10.9.{uuid.uuid4().int % 250}.3"
        gallery = svc.http.get("/api/public/gallery", headers={"X-Forwarded-For": ip}).json()
        listed = {item["result_url"].rsplit("/", 1)[1] for item in gallery["items"]}
        assert fresh in listed and earlier not in listed and other not in listed
        assert gallery["title"] == "Anna & Ivan"
        assert svc.api.post("/api/gallery/share", json={"minutes": 5, "slots": ["slot-016"]}).status_code == 422
    finally:
        svc.api.delete("/api/gallery/share")


async def test_a_gallery_shared_with_a_pin_lists_only_for_that_pin(svc):
    await svc.slot("slot-015", "local")
    svc.post("slot-015")
    state = svc.api.post("/api/gallery/share", json={"minutes": 5, "include_earlier": True, "pin": "4711"}).json()
    try:
        assert state["pin"] == "4711"  # the admin sees it to put on the sign
        url, ip = f"{svc.base_url}/api/public/gallery", {"X-Forwarded-For": f"10.8.{uuid.uuid4().int % 250}.3"}
        missing = svc.http.get(url, headers=ip)
        assert missing.status_code == 401 and missing.json()["failure_reason"] == "pin_required"
        assert svc.http.get(url, headers={**ip, "X-Gallery-Pin": "0000"}).status_code == 401
        opened = svc.http.get(url, headers={**ip, "X-Gallery-Pin": "4711"})
        assert opened.status_code == 200 and opened.json()["items"]
        assert svc.api.post("/api/gallery/share", json={"minutes": 5, "pin": "12"}).status_code == 422
        open_again = svc.api.post("/api/gallery/share", json={"minutes": 5}).json()  # shared again without a PIN
        assert open_again["pin"] is None and svc.http.get(url, headers=ip).status_code == 200
    finally:
        svc.api.delete("/api/gallery/share")


async def test_a_gallery_shared_with_approval_shows_only_approved_photos(svc):
    await svc.slot("slot-014", "local")
    waiting, approved = svc.post("slot-014").headers["x-job-id"], svc.post("slot-014").headers["x-job-id"]
    url, ip = f"{svc.base_url}/api/public/gallery", {"X-Forwarded-For": f"10.9.{uuid.uuid4().int % 250}.4"}
    share = {"minutes": 5, "include_earlier": True, "slots": ["slot-014"], "approval": True}
    state = svc.api.post("/api/gallery/share", json=share)
    try:
        assert state.json()["approval"] is True
        assert svc.http.get(url, headers=ip).json()["items"] == []  # nothing until an admin approves
        assert svc.api.patch(f"/api/jobs/{approved}", json={"approved": True}).status_code == 204
        shown = [item["result_url"].rsplit("/", 1)[1] for item in svc.http.get(url, headers=ip).json()["items"]]
        assert shown == [approved] and waiting not in shown
        assert svc.api.patch(f"/api/jobs/{approved}", json={"approved": False}).status_code == 204
        assert svc.http.get(url, headers=ip).json()["items"] == []
        assert svc.api.patch(f"/api/jobs/{approved}", json={}).status_code == 400
        assert svc.api.patch(f"/api/jobs/{'0' * 32}", json={"approved": True}).status_code == 404
        job = svc.api.get(f"/api/jobs/{approved}").json()
        assert job["approved_at"] is None
    finally:
        svc.api.delete("/api/gallery/share")
