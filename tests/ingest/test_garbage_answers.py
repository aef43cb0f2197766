"""Every answer no protocol allows, from every provider, is a classified failed attempt that the
router handles: the ``local`` fallback answers, or ``on_failure: original`` returns the photo.
Never a bare 500 (issue: every photo comes back)."""

import pytest

from tests.fakes.garbage import SHAPES
from tests.tools.processes import allowed

pytestmark = pytest.mark.database_independent

PROMPT = "Keep the people; put them on a beach"
# Each shape's classification is checked with the fallback; with on_failure: original the route's
# answer does not depend on the shape beyond its class: one of each (a body, a bad image, a timeout).
ORIGINAL_SHAPES = ("html", "not_an_image", "trickle")
LOCAL = [{"provider": "local", "settings": {"look": "warm"}}]
PROVIDERS = {
    "gemini": {"attempt_timeout_seconds": 5},
    "openai": {"model": "gpt-image-1-mini", "quality": "low", "attempt_timeout_seconds": 5},
    "turbotext": {"attempt_timeout_seconds": 5},
}


# Turbotext fetches the photo from the server's public URL: that case needs the real server
CASES = [pytest.param(name, marks=pytest.mark.served) if name == "turbotext" else name for name in PROVIDERS]


def _fake(name, fake_gemini, fake_openai, fake_turbotext):
    return {"gemini": fake_gemini, "openai": fake_openai, "turbotext": fake_turbotext}[name]


def _answer(fake, shape: str) -> None:
    if hasattr(fake, "scenario"):
        fake.reset(f"garbage_{shape}")  # Turbotext's fake takes one scenario for every call
    else:
        fake.reset(default=f"garbage_{shape}")


@pytest.mark.parametrize("provider", CASES)
async def test_garbage_answers_fall_back_to_local(svc, provider, fake_gemini, fake_openai, fake_turbotext):
    fake = _fake(provider, fake_gemini, fake_openai, fake_turbotext)
    await svc.slot("slot-007", provider, prompt=PROMPT, settings=PROVIDERS[provider], fallbacks=LOCAL)
    try:
        for shape in SHAPES:
            await svc.reset_route_health()
            _answer(fake, shape)
            r = svc.post("slot-007")
            assert r.status == 200, (shape, r.body[:300])
            assert r.headers["x-photochanger-fallback"] == "route", shape
            attempts = await svc.attempts(r.headers["x-job-id"])
            failed = [a for a in attempts if a.provider == provider]
            assert failed and all(a.outcome in ("failed", "timeout", "cancelled") for a in failed), shape
            assert all(a.failure_class or a.outcome == "cancelled" for a in failed), shape
            assert attempts[-1].provider == "local" and attempts[-1].outcome == "success", shape
    finally:
        fake.reset()


@pytest.mark.parametrize("provider", CASES)
async def test_garbage_answers_give_the_original_when_asked(svc, provider, fake_gemini, fake_openai, fake_turbotext):
    fake = _fake(provider, fake_gemini, fake_openai, fake_turbotext)
    await svc.setting("sync_response_seconds", 10)
    await svc.slot("slot-007", provider, prompt=PROMPT, settings=PROVIDERS[provider], on_failure="original")
    try:
        for shape in ORIGINAL_SHAPES:
            await svc.reset_route_health()
            _answer(fake, shape)
            r = svc.post("slot-007")
            assert r.status == 200 and r.headers["x-photochanger-fallback"] == "original", (shape, r.body[:300])
            assert r.headers["content-type"] == "image/jpeg" and r.elapsed < allowed(11), shape
            job = await svc.job(r.headers["x-job-id"])
            assert job.status == "done" and job.failure_reason in (
                "provider_error",
                "provider_timeout",
                "provider_unavailable",
            ), shape
            assert job.attempts >= 1, shape
    finally:
        fake.reset()
