"""Fallback routes, on_failure original, cooldown and API keys, seen from the booth."""

import pytest

from tests.conftest import PHOTOS
from tests.tools.processes import allowed

pytestmark = pytest.mark.database_independent

PROMPT = "Keep the people; put them on a beach"
LOCAL = [{"provider": "local", "settings": {"look": "vivid"}}]


async def test_hanging_primary_falls_back_to_local_within_the_deadline(svc, fake_gemini):
    await svc.setting("sync_response_seconds", 10)
    await svc.slot("slot-002", "gemini", prompt=PROMPT, fallbacks=LOCAL, hedging="off")  # the timeout path
    fake_gemini.reset(default="hang")
    r = svc.post("slot-002")
    assert r.status == 200 and r.elapsed < allowed(10) and r.headers["x-photochanger-fallback"] == "route"
    attempts = await svc.attempts(r.headers["x-job-id"])
    assert [(a.route_index, a.provider, a.outcome) for a in attempts] == [
        (0, "gemini", "timeout"),
        (1, "local", "success"),
    ]
    job = await svc.job(r.headers["x-job-id"])
    assert (job.status, job.provider, job.route_index, job.fallback) == ("done", "local", 1, "route")


async def test_provider_down_moves_on_after_three_tries(svc, fake_gemini):
    model = {"model": "gemini-3.1-flash-image"}  # hedging off: earlier tests' fast answers would start local early
    await svc.slot("slot-002", "gemini", prompt=PROMPT, settings=model, fallbacks=LOCAL, hedging="off")
    fake_gemini.reset(default="error_503")
    r = svc.post("slot-002")
    assert r.status == 200 and r.elapsed < allowed(6)
    attempts = await svc.attempts(r.headers["x-job-id"])
    assert [a.failure_class for a in attempts] == ["server_error"] * 3 + [None]
    assert attempts[0].failure_code == "http_503_UNAVAILABLE" and attempts[-1].provider == "local"


async def test_content_block_on_primary_is_not_retried_but_falls_back(svc, fake_gemini):
    await svc.slot("slot-002", "gemini", prompt=PROMPT, settings={"model": "gemini-3-pro-image"}, fallbacks=LOCAL)
    fake_gemini.reset("image_safety")
    r = svc.post("slot-002")
    assert r.status == 200 and len(fake_gemini.requests) == 1
    attempts = await svc.attempts(r.headers["x-job-id"])
    assert attempts[0].failure_class == "content_rejected" and attempts[1].provider == "local"


async def test_on_failure_original_returns_the_photo_and_records_why(svc, fake_gemini):
    await svc.slot("slot-002", "gemini", prompt=PROMPT, on_failure="original")
    fake_gemini.reset("image_safety")
    r = svc.post("slot-002", PHOTOS / "astronaut_dslr_4500x3000.jpg")
    assert r.status == 200 and r.headers["x-photochanger-fallback"] == "original"
    assert r.body == (PHOTOS / "astronaut_dslr_4500x3000.jpg").read_bytes()  # the booth's own photo, untouched
    job = await svc.job(r.headers["x-job-id"])
    assert job.status == "done" and job.fallback == "original" and job.failure_reason == "content_rejected"


async def test_failing_route_opens_its_circuit_and_is_skipped(svc, fake_gemini):
    pro = {"model": "gemini-3-pro-image-preview"}
    await svc.slot("slot-003", "gemini", prompt=PROMPT, settings=pro, fallbacks=LOCAL)
    fake_gemini.reset(default="error_500")
    first = svc.post("slot-003")  # three 500s in a row: the route's circuit opens
    assert first.status == 200
    second = svc.post("slot-003")
    attempts = await svc.attempts(second.headers["x-job-id"])
    assert [(a.outcome, a.failure_code) for a in attempts] == [("skipped", "circuit_open"), ("success", None)]
    assert len(fake_gemini.requests) == 3
    health = svc.api.get("/api/routes").json()
    route = next(r for r in health["routes"] if r["route_key"] == "gemini:gemini-3-pro-image-preview")
    assert route["state"] == "open" and "slot-003" in route["slots"] and "server_error" in route["reason"]
    assert any(d["slot_id"] == "slot-003" and d["from_fallback_route"] >= 2 for d in health["degraded_slots"])


async def test_a_refused_key_is_set_aside_and_the_next_key_used(svc, fake_gemini):
    await svc.slot("slot-002", "gemini", prompt=PROMPT)
    spare = "spare-gemini-key"  # not the environment's key, which other tests may have set aside
    svc.api.put("/api/settings", json={"provider_keys": {"gemini": ["revoked-key-0001", spare]}})
    try:
        statuses = [svc.post("slot-002").status for _ in range(4)]
        used = [request.headers["x-goog-api-key"] for request in fake_gemini.requests]
        assert statuses == [200] * 4
        assert used.count("revoked-key-0001") <= 1 and used.count(spare) == 4
        view = svc.api.get("/api/settings").json()["provider_keys"]["gemini"]
        assert view["last4"] == ["0001", spare[-4:]]
    finally:
        svc.api.put("/api/settings", json={"provider_keys": {"gemini": ""}})


async def test_fallback_routes_are_validated_when_saved(svc):
    bad = svc.api.put(
        "/api/slots/slot-004",
        json={"fallbacks": [{"provider": "gemini", "settings": {"image_size": "2K"}}], "prompt": "x"},
    )
    assert bad.status_code == 422 and bad.json()["detail"].startswith("fallback 1:")
    ok = svc.api.put("/api/slots/slot-004", json={"fallbacks": LOCAL, "on_failure": "original"})
    assert ok.status_code == 200 and ok.json()["fallbacks"][0]["provider"] == "local"


async def test_openai_as_a_fallback_route_when_gemini_blocks(svc, fake_gemini, fake_openai):
    fallback = [{"provider": "openai", "settings": {"model": "gpt-image-1-mini", "quality": "low"}}]
    await svc.slot("slot-005", "gemini", prompt=PROMPT, fallbacks=fallback)
    fake_gemini.reset("prompt_blocked")
    r = svc.post("slot-005", PHOTOS / "astronaut.png", mime="image/png")
    assert r.status == 200 and r.headers["content-type"] == "image/png"  # OpenAI's JPEG converted back to PNG
    attempts = await svc.attempts(r.headers["x-job-id"])
    assert [(a.provider, a.outcome) for a in attempts] == [("gemini", "failed"), ("openai", "success")]
    assert attempts[1].request_id.startswith("req_") and attempts[1].cost_usd > 0
    job = await svc.job(r.headers["x-job-id"])
    assert job.cost_usd == attempts[1].cost_usd and job.model == "gpt-image-1-mini"
    detail = svc.api.get(f"/api/jobs/{job.id}").json()
    assert detail["fallback"] == "route" and detail["route_index"] == 1
    assert [(a["route_index"], a["failure_class"]) for a in detail["attempt_log"]] == [
        (0, "content_rejected"),
        (1, None),
    ]
    slot_stats = svc.api.get("/api/stats/overview", params={"window": "1h"}).json()["slots"]["slot-005"]
    assert slot_stats["fallbacks"] >= 1 and slot_stats["estimated_cost_usd"] > 0
    assert fake_openai.requests[0].fields["prompt"] == PROMPT


async def test_with_a_hung_primary_every_guest_after_the_first_is_answered_at_once(svc, fake_gemini):
    import time

    await svc.setting("sync_response_seconds", 20)
    quick = {"model": "gemini-2.5-flash-image", "attempt_timeout_seconds": 5}  # the first guest waits 5 s, not 10
    await svc.slot("slot-004", "gemini", prompt=PROMPT, settings=quick, fallbacks=LOCAL)
    fake_gemini.reset(default="hang")
    first = svc.post("slot-004")
    assert first.status == 200 and first.headers["x-photochanger-fallback"] == "route"
    later, until = [], time.monotonic() + 11  # back to back, past two probe intervals (5 s in tests)
    while time.monotonic() < until:
        answer = svc.post("slot-004")
        assert answer.status == 200
        later.append(round(answer.elapsed, 2))
    assert max(later) <= allowed(3), later  # a probe of the hung route never holds a guest
    assert len(fake_gemini.requests) <= 4  # the first guest, then at most one probe per interval


async def test_one_slots_slow_prompt_does_not_close_the_model_for_another_slot(svc, fake_gemini):
    from tests.fakes.gemini import HANG_MARK

    await svc.setting("sync_response_seconds", 15)
    # a model no other test answers slowly: the latency history is the database's, shared by the session's tests
    model = {"model": "gemini-3.1-flash-image"}
    quick = {**model, "attempt_timeout_seconds": 5}  # the hung attempt ends after 5 s, not the 10 s floor
    await svc.slot("slot-005", "gemini", prompt=f"{PROMPT} {HANG_MARK}", settings=quick, fallbacks=LOCAL, hedging="off")
    await svc.slot("slot-006", "gemini", prompt=PROMPT, settings=model, fallbacks=LOCAL, hedging="off")
    fake_gemini.reset()
    slow = svc.post("slot-005")  # the whole attempt timeout, then local
    assert slow.status == 200 and slow.headers["x-photochanger-fallback"] == "route"
    for _ in range(5):
        healthy = svc.post("slot-006")
        assert healthy.status == 200 and "x-photochanger-fallback" not in healthy.headers  # from its primary
        again = svc.post("slot-005")
        assert again.status == 200 and again.elapsed < allowed(3)  # the slow slot goes to local at once
    circuits = {c["route_key"]: c["state"] for c in svc.api.get("/api/routes").json()["routes"]}
    assert circuits.get("gemini:gemini-3.1-flash-image", "closed") == "closed"
    assert circuits["gemini:gemini-3.1-flash-image@slot-005"] == "open"
