"""The photo webhook end to end: a receiver that is down gets every delivery once it is back, each
signed; a receiver that hangs never delays a booth."""

import asyncio
import json
import time

import pytest

from photochanger.webhooks.service import verify
from tests.fakes.receiver import FakeReceiver
from tests.tools.processes import allowed


@pytest.fixture
async def receiver(svc):
    fake = FakeReceiver().start()
    svc.api.put("/api/settings", json={"photo_webhook_url": fake.url})
    yield fake
    svc.api.put("/api/settings", json={"photo_webhook_url": ""})
    fake.stop()


async def _until(predicate, seconds: float) -> None:
    """Poll ``predicate`` every 0.1 s for at most ``seconds``."""
    for _ in range(int(seconds * 10)):
        if predicate():
            return
        await asyncio.sleep(0.1)


async def test_a_receiver_that_was_down_gets_every_delivery_signed(svc, receiver):
    await svc.slot("slot-010", "local")
    secret = svc.api.get("/api/settings").json()["webhook_secret"]
    receiver.mode = "down"
    posted = [await asyncio.to_thread(svc.post, "slot-010", fields={"survey1": "Анна"}) for _ in range(3)]
    assert all(r.status == 200 for r in posted)
    ids = {r.headers["x-job-id"] for r in posted}
    await _until(lambda: len(receiver.received) >= 3, allowed(10))
    assert receiver.received and not receiver.delivered()  # tried at once, refused
    receiver.mode = "up"
    await _until(lambda: len(receiver.delivered()) >= 3, allowed(15))  # the next retry (≈5 s later)
    delivered = receiver.delivered()
    bodies = [json.loads(r.body) for r in delivered]
    assert {b["job_id"] for b in bodies} == ids and all(b["event"] == "photo.finished" for b in bodies)
    for r, b in zip(delivered, bodies, strict=True):
        assert verify(secret, r.headers["x-photochanger-signature"], r.body, time.time())
        assert r.headers["x-photochanger-delivery"] == b["delivery_id"]
        assert b["fields"]["survey1"] == "Анна" and b["status"] == "done" and b["take_home_url"].endswith(b["job_id"])

    def mine() -> list[dict]:
        return [d for d in svc.api.get("/api/webhooks/deliveries").json() if d["job_id"] in ids]

    # the receiver has each request before its row says so: the state is written once the answer is read
    await _until(lambda: all(d["state"] == "delivered" for d in mine()), allowed(10))
    assert len(mine()) == 3 and all(d["state"] == "delivered" and d["attempts"] >= 2 for d in mine())


@pytest.mark.database_independent
async def test_a_hanging_receiver_never_delays_the_booth_and_a_test_delivery_reports(svc, receiver):
    await svc.slot("slot-010", "local")
    quick = await asyncio.to_thread(svc.post, "slot-010")
    receiver.mode = "hang"
    slow = [await asyncio.to_thread(svc.post, "slot-010") for _ in range(3)]
    assert all(r.status == 200 for r in slow)
    assert max(r.elapsed for r in slow) <= allowed(quick.elapsed + 1.0)  # the answer does not wait for it
    receiver.mode = "up"
    test = svc.api.post("/api/webhooks/test").json()
    assert test["state"] == "delivered" and test["last_status"] == 204 and test["event"] == "webhook.test"
    receiver.mode = "down"
    failed = svc.api.post("/api/webhooks/test").json()
    assert failed["state"] == "failed" and failed["last_status"] == 503


@pytest.mark.database_independent
async def test_a_late_ai_photo_is_announced_as_photo_late_result(svc, receiver, fake_gemini):
    await svc.setting("sync_response_seconds", 10)
    await svc.slot("slot-010", "gemini", prompt="A sunny beach", on_failure="original", late_delivery_minutes=2)
    fake_gemini.reset(latency=13)  # misses the booth's deadline
    try:
        r = await asyncio.to_thread(svc.post, "slot-010")
        assert r.headers["x-photochanger-late"] == "continuing"
        await _until(lambda: len(receiver.delivered()) >= 2, allowed(20))
        events = [json.loads(d.body) for d in receiver.delivered()]
        assert [(e["event"], e["late"]) for e in events] == [
            ("photo.finished", "continuing"),
            ("photo.late_result", None),
        ]
        assert events[1]["job_id"] == r.headers["x-job-id"] and events[1]["status"] == "done"
        assert events[1]["result_url"] and events[1]["take_home_url"] == r.headers["x-result-url"]
    finally:
        await svc.slot("slot-010", "local")


async def test_an_events_photos_go_to_its_own_webhook_with_the_event_named(svc):
    ours, global_receiver = FakeReceiver().start(), FakeReceiver().start()
    svc.api.put("/api/settings", json={"photo_webhook_url": global_receiver.url})
    await svc.slot("slot-011", "local")
    event = svc.api.post("/api/events", json={"name": "Гала", "slot_ids": ["slot-011"], "webhook_url": ours.url}).json()
    svc.api.post(f"/api/events/{event['id']}/start")
    try:
        job = (await asyncio.to_thread(svc.post, "slot-011")).headers["x-job-id"]
        await _until(lambda: ours.delivered(), allowed(10))
        body = json.loads(ours.delivered()[0].body)
        assert (body["job_id"], body["event_id"], body["event_name"]) == (job, event["id"], "Гала")
        assert not [r for r in global_receiver.received if json.loads(r.body).get("job_id") == job]
    finally:
        svc.api.put("/api/settings", json={"photo_webhook_url": ""})
        svc.api.post(f"/api/events/{event['id']}/end")
        svc.api.delete(f"/api/events/{event['id']}")
        ours.stop()
        global_receiver.stop()
