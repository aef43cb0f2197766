"""Events: a photo belongs to the event live for its slot when it arrived; its stats, gallery,
jobs, spend and export show exactly its photos, never another event's running beside it."""

import concurrent.futures
import csv
import io
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import PHOTOS


@pytest.fixture
def events(svc):
    """Create events through the API; every one is ended and deleted after the test."""
    made: list[str] = []

    def create(**body) -> dict:
        answer = svc.api.post("/api/events", json=body)
        assert answer.status_code == 201, answer.text
        made.append(answer.json()["id"])
        return answer.json()

    yield create
    for event_id in made:
        svc.api.post(f"/api/events/{event_id}/end")
        svc.api.delete(f"/api/events/{event_id}")


async def test_thirty_photos_of_one_event_beside_another_show_only_in_their_event(svc, events):
    await svc.slot("slot-012", "local")
    await svc.slot("slot-013", "local")
    ours = events(name="Свадьба Анны", client="Анна и Пётр", slot_ids=["slot-012"], title="Анна ♥ Пётр",
                  colour="#aa3366")  # fmt: skip
    other = events(name="Corporate", slot_ids=["slot-013"])
    assert ours["state"] == "planned" and ours["photos"] == 0
    before = svc.post("slot-012").headers["x-job-id"]  # before the start: no event
    assert svc.api.post(f"/api/events/{ours['id']}/start").json()["state"] == "live"
    assert svc.api.post(f"/api/events/{other['id']}/start").json()["state"] == "live"
    photo = (PHOTOS / "astronaut.jpg").read_bytes()

    def shoot(n: int):
        slot = "slot-012" if n < 30 else "slot-013"
        return svc.post(slot, photo, fields={"name": f"Гость {n}", "id": str(n)}, query=f"table={n % 5}")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(shoot, range(36)))
    assert [a.status for a in answers] == [200] * 36
    mine = {a.headers["x-job-id"] for a in answers[:30]}
    assert svc.api.post(f"/api/events/{ours['id']}/end").json()["state"] == "ended"
    after = svc.post("slot-012").headers["x-job-id"]  # after the end: no event
    assert (await svc.job(before)).event_id is None and (await svc.job(after)).event_id is None
    status = svc.http.get(f"/public/results/{next(iter(mine))}/status").json()
    assert (status["title"], status["colour"]) == ("Анна ♥ Пётр", "#aa3366")  # the take-home page's look
    assert svc.http.get(f"/public/results/{after}/status").json()["title"] is None

    summary = svc.api.get(f"/api/events/{ours['id']}/summary").json()
    assert summary["photos"] == 30 and summary["done"] == 30 and summary["success_rate"] == 1.0
    assert summary["p95_total_ms"] > 0 and summary["spend_state"] == "uncapped"
    overview = svc.api.get("/api/stats/overview", params={"window": "all", "event_id": ours["id"]}).json()
    assert overview["totals"]["jobs"] == 30 and list(overview["slots"]) == ["slot-012"]
    series = svc.api.get("/api/stats/timeseries", params={"window": "1h", "event_id": ours["id"]}).json()
    assert sum(sum(b["counts"].values()) for b in series["buckets"]) == 30
    listed = svc.api.get("/api/jobs", params={"event_id": ours["id"], "limit": 200}).json()["items"]
    assert {j["id"] for j in listed} == mine
    assert [e["photos"] for e in svc.api.get("/api/events").json() if e["id"] == ours["id"]] == [30]

    shared = svc.api.post("/api/gallery/share", json={"minutes": 5, "event_id": ours["id"]}).json()
    try:
        assert shared["title"] == "Анна ♥ Пётр" and shared["colour"] == "#aa3366"
        ip = f"10.9.{uuid.uuid4().int % 250}.3"
        gallery = svc.http.get("/api/public/gallery", headers={"X-Forwarded-For": ip}).json()
        assert {i["result_url"].rsplit("/", 1)[1] for i in gallery["items"]} == mine
        assert gallery["colour"] == "#aa3366"
    finally:
        svc.api.delete("/api/gallery/share")

    link = svc.api.post(f"/api/events/{ours['id']}/export-link", params={"originals": True}).json()
    with svc.http.stream("GET", f"{svc.base_url}{link['url']}", timeout=60) as response:  # no bearer: the ticket
        assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
        assert "attachment" in response.headers["content-disposition"]
        data = b"".join(response.iter_bytes())
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    names = archive.namelist()
    assert len([n for n in names if n.startswith("results/")]) == 30
    assert len([n for n in names if n.startswith("originals/")]) == 30
    assert all(archive.read(n) == photo for n in names if n.startswith("originals/"))
    table = archive.read("photos.csv")
    assert table.startswith("\ufeff".encode())  # UTF-8 with BOM: spreadsheets keep the Cyrillic
    rows = list(csv.DictReader(io.StringIO(table.decode("utf-8-sig"))))
    assert {r["job_id"] for r in rows} == mine and all(r["status"] == "done" for r in rows)
    assert {r["field:name"] for r in rows} == {f"Гость {n}" for n in range(30)}
    assert {r["query:table"] for r in rows} == {"0", "1", "2", "3", "4"}
    assert all(r["result_file"] in names and r["take_home_url"].endswith(r["job_id"]) for r in rows)


def test_an_event_cannot_overlap_another_on_a_slot_and_times_are_checked(svc, events):
    now = datetime.now(UTC)
    first = events(name="Tonight", slot_ids=["slot-014"], starts_at=now.isoformat())
    assert first["state"] == "live"
    clash = svc.api.post("/api/events", json={"name": "Clash", "slot_ids": ["slot-014", "slot-015"],
                                              "starts_at": (now + timedelta(hours=1)).isoformat()})  # fmt: skip
    assert clash.status_code == 409 and clash.json()["failure_reason"] == "event_overlap"
    assert svc.api.post(f"/api/events/{first['id']}/end").json()["state"] == "ended"
    tomorrow = events(name="Tomorrow", slot_ids=["slot-014"], starts_at=(now + timedelta(days=1)).isoformat())
    assert tomorrow["state"] == "planned"  # tonight's has ended: no clash any more
    backwards = svc.api.patch(f"/api/events/{tomorrow['id']}", json={"ends_at": now.isoformat()})
    assert backwards.status_code == 422 and backwards.json()["failure_reason"] == "invalid_event"
    assert svc.api.post("/api/events", json={"name": "x", "slot_ids": ["slot-016"]}).status_code == 422
    assert svc.api.post("/api/events", json={"name": "x", "slot_ids": []}).status_code == 422
    assert svc.api.get("/api/events/nope").json()["failure_reason"] == "event_not_found"
    live = svc.api.post(f"/api/events/{tomorrow['id']}/start").json()
    assert live["state"] == "live"
    assert svc.api.delete(f"/api/events/{tomorrow['id']}").status_code == 422  # end it first


def test_the_export_needs_a_token_or_a_live_ticket_for_that_event(svc, events):
    one, two = events(name="One", slot_ids=["slot-014"]), events(name="Two", slot_ids=["slot-015"])
    assert svc.http.get(f"/api/events/{one['id']}/export.zip").status_code == 401
    link = svc.api.post(f"/api/events/{one['id']}/export-link").json()["url"]
    ticket = link.split("ticket=")[1]
    other = svc.http.get(f"/api/events/{two['id']}/export.zip", params={"ticket": ticket})
    assert other.status_code == 401  # a ticket opens its own event only
    empty = svc.api.get(f"/api/events/{one['id']}/export.zip")  # a bearer token works too
    assert empty.status_code == 200 and zipfile.ZipFile(io.BytesIO(empty.content)).namelist() == ["photos.csv"]


async def test_an_events_logo_is_checked_stored_and_shown_to_guests(svc, events):
    await svc.slot("slot-014", "local")
    event = events(name="Logo night", slot_ids=["slot-014"])
    logo = (PHOTOS / "camera.png").read_bytes()
    bad = svc.api.put(f"/api/events/{event['id']}/logo", files={"file": ("logo.png", b"not an image", "image/png")})
    assert bad.status_code == 415 and bad.json()["failure_reason"] == "unsupported_media_type"
    big = svc.api.put(f"/api/events/{event['id']}/logo", files={"file": ("l.png", b"0" * 1_000_001, "image/png")})
    assert big.status_code == 413
    assert svc.api.put("/api/events/nope/logo", files={"file": ("l.png", logo, "image/png")}).status_code == 404
    first = svc.api.put(f"/api/events/{event['id']}/logo", files={"file": ("logo.png", logo, "image/png")}).json()
    second = svc.api.put(f"/api/events/{event['id']}/logo", files={"file": ("logo.png", logo, "image/png")}).json()
    assert first["logo_url"] != second["logo_url"]  # a new logo, a new address
    assert svc.http.get(f"{first['logo_url']}").content == logo  # the old file went, the event's logo stays
    served = svc.http.get(f"{second['logo_url']}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/png" and served.content == logo
    svc.api.post(f"/api/events/{event['id']}/start")
    job = svc.post("slot-014").headers["x-job-id"]
    status = svc.http.get(f"/public/results/{job}/status").json()
    assert status["logo_url"] == second["logo_url"]
    shared = svc.api.post("/api/gallery/share", json={"minutes": 1, "event_id": event["id"]}).json()
    svc.api.delete("/api/gallery/share")
    assert shared["logo_url"] == second["logo_url"]
    assert svc.api.delete(f"/api/events/{event['id']}/logo").json()["logo_url"] is None
    assert svc.http.get(f"/public/events/{event['id']}/logo").json()["failure_reason"] == "logo_not_found"
