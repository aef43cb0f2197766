"""Keep the people: an AI answer that lost the photo's people is a failed attempt (retried, then
the next route, then ``on_failure``), checked with the real face detector; prompts filled from the
booth's fields and the URL's query parameters."""

import pytest

from photochanger import faces
from tests.conftest import PHOTOS

PROMPT = "Keep the people; put them on a beach"
LOCAL = [{"provider": "local", "settings": {"look": "warm"}}]

pytestmark = [
    pytest.mark.skipif(not faces.available(), reason="the local-ai extra (mediapipe) is not installed"),
    pytest.mark.database_independent,
]


async def test_an_answer_that_lost_the_people_is_retried(svc, fake_gemini):
    await svc.slot("slot-011", "gemini", prompt=PROMPT)
    fake_gemini.reset("people_removed", "success")
    r = svc.post("slot-011")
    assert r.status == 200 and "x-photochanger-fallback" not in r.headers
    attempts = await svc.attempts(r.headers["x-job-id"])
    assert [(a.outcome, a.failure_class, a.faces_expected, a.faces_found) for a in attempts] == [
        ("failed", "people_lost", 1, 0),
        ("success", None, 1, 1),
    ]
    detail = svc.api.get(f"/api/jobs/{r.headers['x-job-id']}").json()
    assert [(a["faces_expected"], a["faces_found"]) for a in detail["attempt_log"]] == [(1, 0), (1, 1)]
    stats = svc.api.get("/api/stats/overview", params={"window": "1h"}).json()["slots"]["slot-011"]
    assert stats["people_lost"] >= 1


async def test_when_every_answer_loses_the_people_the_fallback_or_the_original_answers(svc, fake_gemini):
    await svc.slot("slot-011", "gemini", prompt=PROMPT, fallbacks=LOCAL)
    fake_gemini.reset(default="people_removed")
    r = svc.post("slot-011")
    assert r.status == 200 and r.headers["x-photochanger-fallback"] == "route"
    await svc.slot("slot-011", "gemini", prompt=PROMPT, on_failure="original")
    r = svc.post("slot-011")
    assert r.status == 200 and r.headers["x-photochanger-fallback"] == "original"
    job = await svc.job(r.headers["x-job-id"])
    assert job.failure_reason == "people_lost"
    await svc.slot("slot-011", "gemini", prompt=PROMPT)
    r = svc.post("slot-011")
    assert r.status == 502 and r.json()["failure_reason"] == "people_lost"


async def test_the_check_can_be_switched_off_per_slot(svc, fake_gemini):
    await svc.slot("slot-011", "gemini", prompt=PROMPT)
    assert svc.api.put("/api/slots/slot-011", json={"people_check": "off"}).status_code == 200
    try:
        fake_gemini.reset("people_removed")
        r = svc.post("slot-011")
        assert r.status == 200
        [attempt] = await svc.attempts(r.headers["x-job-id"])
        assert attempt.outcome == "success" and attempt.faces_found is None
    finally:
        svc.api.put("/api/slots/slot-011", json={"people_check": "auto"})


async def test_prompts_name_booth_fields_and_query_parameters(svc, fake_gemini):
    template = "Put {name|our guest} on a {query.team|city} football card, number {id}"
    await svc.slot("slot-012", "gemini", prompt=template)
    fake_gemini.reset()
    r = svc.post("slot-012", fields={"name": "Anna\x07 Petrova", "id": "IMG_7"}, query="team=Spartak")
    assert r.status == 200
    sent = [p[1] for p in fake_gemini.requests[0].parts if p[0] == "text"]
    assert sent == ["Put Anna Petrova on a Spartak football card, number IMG_7"]
    assert (await svc.job(r.headers["x-job-id"])).prompt == sent[0]
    refused = svc.api.put("/api/slots/slot-012", json={"prompt": "Hello {shoe_size}"})
    assert (
        refused.status_code == 422
        and "{shoe_size}" in refused.json()["detail"]
        and "{name}" in refused.json()["detail"]
    )
    assert svc.api.put("/api/slots/slot-012", json={"prompt": "Hello {shoe_size|friend}"}).status_code == 200
    detail = svc.api.get("/api/slots/slot-012").json()
    assert "query.team" in detail["booth_fields"] and "name" in detail["booth_fields"]


async def test_a_test_run_takes_sample_field_values(svc, fake_gemini):
    await svc.slot("slot-012", "gemini", prompt="Make {nickname|someone} a superhero")
    fake_gemini.reset()
    run = svc.api.post(
        "/api/slots/slot-012/test-run",
        files={"test_image": ("a.jpg", (PHOTOS / "astronaut.jpg").read_bytes(), "image/jpeg")},
        data={"sample_fields": '{"nickname": "Captain Booth"}'},
    )
    assert run.status_code == 200
    assert [p[1] for p in fake_gemini.requests[0].parts if p[0] == "text"] == ["Make Captain Booth a superhero"]
