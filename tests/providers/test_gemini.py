"""The Gemini provider against the fake server: request shape and failure classification."""

import pytest
from google.genai import types

from photochanger.providers.base import FailureKind, InputImage, ProviderFailure, ProviderRequest
from photochanger.providers.gemini import FINISH_REASONS, GeminiProvider, GeminiSettings
from photochanger.providers.registry import InvalidSettings, validate_settings
from tests.conftest import GEMINI_KEY, PHOTOS

PHOTO = InputImage((PHOTOS / "astronaut.jpg").read_bytes(), "image/jpeg")


def _request(timeout: float = 20, api_key: str | None = GEMINI_KEY, **settings) -> ProviderRequest:
    return ProviderRequest(PHOTO, [], "Put the astronaut on the moon", GeminiSettings(**settings), timeout, api_key)


@pytest.fixture
def gemini(fake_gemini):
    fake_gemini.reset()
    yield GeminiProvider(fake_gemini.url)
    fake_gemini.reset()


def test_every_sdk_finish_reason_is_classified():
    assert {reason.value for reason in types.FinishReason} <= set(FINISH_REASONS)


@pytest.mark.parametrize(
    ("scenario", "kind", "code"),
    [
        ("no_image", FailureKind.NO_IMAGE, "NO_IMAGE"),
        ("text_only", FailureKind.NO_IMAGE, "TEXT_ONLY"),
        ("image_safety", FailureKind.CONTENT_REJECTED, "IMAGE_SAFETY"),
        ("prompt_blocked", FailureKind.CONTENT_REJECTED, "block_PROHIBITED_CONTENT"),
        ("rate_limited", FailureKind.RATE_LIMITED, "http_429_RESOURCE_EXHAUSTED"),
        ("quota_zero", FailureKind.QUOTA_EXHAUSTED, "quota_exhausted"),
        ("error_500", FailureKind.SERVER_ERROR, "http_500_INTERNAL"),
        ("error_503", FailureKind.SERVER_ERROR, "http_503_UNAVAILABLE"),
    ],
)
async def test_failures_are_classified(gemini, fake_gemini, scenario, kind, code):
    fake_gemini.reset(scenario)
    with pytest.raises(ProviderFailure) as caught:
        await gemini.generate(_request())
    assert (caught.value.kind, caught.value.code) == (kind, code)
    if scenario == "rate_limited":
        assert caught.value.retry_after == 1.0


async def test_last_non_thought_image_is_taken(gemini, fake_gemini):
    fake_gemini.reset("thought")
    image = await gemini.generate(_request())
    assert image.data.startswith(b"\x89PNG\r\n") and image.request_id


async def test_image_size_reaches_the_wire_for_pro(gemini, fake_gemini):
    await gemini.generate(_request(model="gemini-3-pro-image-preview", image_size="2K", aspect_ratio="4:5"))
    request = fake_gemini.requests[0]
    assert request.model == "gemini-3-pro-image-preview"
    assert request.body["generationConfig"]["imageConfig"] == {"aspectRatio": "4:5", "imageSize": "2K"}


async def test_bad_key_and_missing_key(fake_gemini):
    with pytest.raises(ProviderFailure) as caught:
        await GeminiProvider(fake_gemini.url).generate(_request(api_key="wrong-key"))
    assert caught.value.kind is FailureKind.KEY_REJECTED
    with pytest.raises(ProviderFailure) as caught:
        await GeminiProvider(fake_gemini.url).generate(_request(api_key=None))
    assert (caught.value.kind, caught.value.code) == (FailureKind.UNAVAILABLE, "no_api_key")


async def test_transport_timeout_is_classified(gemini, fake_gemini):
    fake_gemini.reset("hang")
    with pytest.raises(ProviderFailure) as caught:
        await gemini.generate(_request(timeout=1.5))
    assert caught.value.kind is FailureKind.TIMEOUT


async def test_unreachable_server_is_a_server_error():
    with pytest.raises(ProviderFailure) as caught:
        await GeminiProvider("http://127.0.0.1:9").generate(_request())
    assert (caught.value.kind, caught.value.code) == (FailureKind.SERVER_ERROR, "connection_error")


@pytest.mark.parametrize(
    ("settings", "prompt", "message"),
    [
        ({"image_size": "2K"}, "p", "image_size '2K' is not supported by gemini-2.5-flash-image"),
        ({"model": "gemini-3-pro-image-preview", "image_size": "2k"}, "p", "image_size"),
        ({"model": "gemini-3-pro-image", "image_size": "512"}, "p", "allowed: 1K, 2K, 4K"),
        ({"aspect_ratio": "7:3"}, "p", "aspect_ratio"),
        ({"aspect_ratio": "1:4"}, "p", "aspect_ratio '1:4' is not supported by gemini-2.5-flash-image"),
        ({"temperature": 1}, "p", "temperature: unknown setting"),
        ({}, "  ", "needs a prompt"),
    ],
)
def test_settings_are_validated_at_save_time(settings, prompt, message):
    with pytest.raises(InvalidSettings, match=message):
        validate_settings("gemini", settings, prompt)


def test_newer_models_accept_their_own_sizes_and_ratios():
    flash = validate_settings(
        "gemini", {"model": "gemini-3.1-flash-image", "image_size": "512", "aspect_ratio": "1:4"}, "p"
    )
    assert flash.image_size == "512"
    assert validate_settings("gemini", {"model": "gemini-3-pro-image", "image_size": "4K"}, "p").image_size == "4K"
