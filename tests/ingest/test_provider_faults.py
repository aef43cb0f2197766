"""Provider faults seen from the booth: retries under the deadline, clean errors, no hangs."""

import io

import pytest
from PIL import Image

from tests.conftest import GEMINI_KEY, PHOTOS
from tests.tools.processes import allowed

pytestmark = pytest.mark.database_independent

PROMPT = "Keep the person unchanged; replace the background with a sunny beach"


async def _gemini_slot(svc, **settings):
    await svc.slot("slot-002", "gemini", prompt=PROMPT, settings=settings)


async def test_gemini_success_wire_format_and_jpeg_answer(svc, fake_gemini):
    await _gemini_slot(svc, aspect_ratio="3:4")
    fake_gemini.reset("wrong_mime")  # JPEG bytes labelled image/png: sniffed, not trusted
    r = svc.post("slot-002", PHOTOS / "astronaut.jpg")
    assert r.status == 200 and r.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(r.body)).format == "JPEG"
    [request] = fake_gemini.requests
    assert request.version == "v1beta" and request.model == "gemini-2.5-flash-image"
    assert request.headers["x-goog-api-key"] == GEMINI_KEY
    assert [p[0] for p in request.parts] == ["image", "text"] and request.parts[1][1] == PROMPT
    config = request.body["generationConfig"]
    assert config["responseModalities"] == ["IMAGE"] and config["imageConfig"] == {"aspectRatio": "3:4"}
    job = await svc.job(r.headers["x-job-id"])
    assert (job.provider, job.model, job.attempts) == ("gemini", "gemini-2.5-flash-image", 1)


async def test_templates_follow_the_photo_and_precede_the_prompt(svc, fake_gemini):
    from photochanger.slots import service as slots
    from photochanger.storage import FolderStore

    await svc.slot("slot-005", "gemini", prompt=PROMPT)
    store = FolderStore(svc.media)
    template = await slots.add_template(svc.db, store, "slot-005", (PHOTOS / "camera.png").read_bytes(), "background")
    try:
        fake_gemini.reset("thought")  # a thought image first; the final image must be used
        r = svc.post("slot-005", PHOTOS / "astronaut.png", mime="image/png")
        assert r.status == 200 and r.headers["content-type"] == "image/png"
        parts = fake_gemini.requests[0].parts
        assert [(p[0], p[1] if p[0] == "image" else None) for p in parts] == [
            ("image", "image/jpeg"),
            ("image", "image/png"),
            ("text", None),
        ]  # opaque photos travel as JPEG
        assert parts[1][2] == (PHOTOS / "camera.png").read_bytes()
    finally:
        await slots.remove_template(svc.db, store, "slot-005", template.id)


async def test_no_image_then_success_is_retried(svc, fake_gemini):
    await _gemini_slot(svc)
    fake_gemini.reset("no_image", "text_only", "success")
    r = svc.post("slot-002")
    assert r.status == 200
    attempts = await svc.attempts(r.headers["x-job-id"])
    assert [(a.outcome, a.failure_code) for a in attempts] == [
        ("failed", "NO_IMAGE"),
        ("failed", "TEXT_ONLY"),
        ("success", None),
    ]
    assert (await svc.job(r.headers["x-job-id"])).attempts == 3


async def test_transient_server_errors_and_short_rate_limits_are_retried(svc, fake_gemini):
    await _gemini_slot(svc)
    fake_gemini.reset("error_503", "rate_limited", "error_500", "success")
    r = svc.post("slot-002")
    assert r.status == 200
    codes = [a.failure_code for a in await svc.attempts(r.headers["x-job-id"])]
    assert codes == ["http_503_UNAVAILABLE", "http_429_RESOURCE_EXHAUSTED", "http_500_INTERNAL", None]


async def test_content_blocks_are_422_and_never_retried(svc, fake_gemini):
    await _gemini_slot(svc)
    for scenario, code in [("image_safety", "IMAGE_SAFETY"), ("prompt_blocked", "block_PROHIBITED_CONTENT")]:
        fake_gemini.reset(scenario, default="success")
        r = svc.post("slot-002")
        assert r.status == 422, scenario
        assert r.json()["failure_reason"] == "content_rejected" and r.json()["status"] == "error"
        assert len(fake_gemini.requests) == 1
        job = await svc.job(r.json()["job_id"])
        assert job.status == "failed" and job.failure_reason == "content_rejected" and code in job.failure_detail
        assert job.input_path is not None


async def test_rate_limit_hint_that_does_not_fit_fails_fast_with_503(svc, fake_gemini):
    await _gemini_slot(svc)
    fake_gemini.reset("rate_limited_long")
    r = svc.post("slot-002")
    assert r.status == 503 and r.json()["failure_reason"] == "provider_unavailable" and r.elapsed < allowed(5)
    fake_gemini.reset("quota_zero")
    r = svc.post("slot-002")
    assert r.status == 503 and len(fake_gemini.requests) == 1


async def test_persistent_503_ends_in_502_before_the_deadline(svc, fake_gemini):
    await svc.setting("sync_response_seconds", 12)
    await _gemini_slot(svc)
    fake_gemini.reset(default="error_503")
    r = svc.post("slot-002")
    assert r.status == 502 and r.json()["failure_reason"] == "provider_error" and r.elapsed < allowed(12)
    assert len(fake_gemini.requests) >= 2


async def test_hanging_provider_gives_clean_504_within_the_deadline(svc, fake_gemini):
    await svc.setting("sync_response_seconds", 10)
    await _gemini_slot(svc)
    fake_gemini.reset(default="hang")
    r = svc.post("slot-002")
    assert r.status == 504 and r.elapsed < allowed(10.5)
    assert r.json()["status"] == "timeout" and r.json()["failure_reason"] == "provider_timeout"
    job = await svc.job(r.json()["job_id"])
    assert job.status == "timeout" and job.total_ms < 10_500


async def test_slow_success_inside_the_deadline_is_not_cut_short(svc, fake_gemini):
    await svc.setting("sync_response_seconds", 10)
    await _gemini_slot(svc)
    fake_gemini.reset(default="slow", latency=7.0)
    r = svc.post("slot-002")
    assert r.status == 200 and 7 <= r.elapsed < allowed(10)
