"""The OpenAI Images provider against the fake server: request shape and failure classification."""

import io

import pytest
from PIL import Image

from photochanger.providers.base import FailureKind, InputImage, ProviderFailure, ProviderRequest
from photochanger.providers.openai_images import OpenAIProvider, OpenAISettings
from photochanger.providers.registry import InvalidSettings, validate_settings
from tests.conftest import OPENAI_KEY, PHOTOS

PHOTO = InputImage((PHOTOS / "astronaut.jpg").read_bytes(), "image/jpeg")
TEMPLATE = InputImage((PHOTOS / "camera.png").read_bytes(), "image/png", "background")


def _request(templates=(), api_key: str | None = OPENAI_KEY, timeout: float = 20, **settings) -> ProviderRequest:
    return ProviderRequest(PHOTO, list(templates), "Put them in a jungle", OpenAISettings(**settings), timeout, api_key)


@pytest.fixture
def provider(fake_openai):
    fake_openai.reset()
    yield OpenAIProvider(fake_openai.url)
    fake_openai.reset()


async def test_photo_first_then_templates_with_real_mime_types(provider, fake_openai):
    image = await provider.generate(_request([TEMPLATE], model="gpt-image-1", input_fidelity="high", size="1024x1536"))
    assert Image.open(io.BytesIO(image.data)).format == "JPEG"
    assert image.request_id.startswith("req_") and image.cost_usd and image.cost_usd > 0
    [edit] = fake_openai.requests
    assert [(name, mime) for name, mime, _ in edit.images] == [("image[]", "image/jpeg"), ("image[]", "image/png")]
    assert edit.images[0][2] == PHOTO.data
    assert edit.fields["model"] == "gpt-image-1" and edit.fields["input_fidelity"] == "high"
    assert edit.fields["output_format"] == "jpeg" and edit.fields["size"] == "1024x1536"
    assert edit.headers["authorization"] == f"Bearer {OPENAI_KEY}"


@pytest.mark.parametrize(
    ("scenario", "kind", "code"),
    [
        ("moderation_blocked", FailureKind.CONTENT_REJECTED, "http_400_moderation_blocked"),
        ("rate_limited", FailureKind.RATE_LIMITED, "http_429_rate_limit_exceeded"),
        ("insufficient_quota", FailureKind.QUOTA_EXHAUSTED, "quota_exhausted"),
        ("invalid_key", FailureKind.KEY_REJECTED, "http_401_invalid_api_key"),
        ("error_500", FailureKind.SERVER_ERROR, "http_500"),
        ("error_503", FailureKind.SERVER_ERROR, "http_503"),
        ("no_data", FailureKind.NO_IMAGE, "NO_IMAGE"),
    ],
)
async def test_failures_are_classified(provider, fake_openai, scenario, kind, code):
    fake_openai.reset(scenario)
    with pytest.raises(ProviderFailure) as caught:
        await provider.generate(_request())
    assert (caught.value.kind, caught.value.code) == (kind, code)
    if scenario == "rate_limited":
        assert caught.value.retry_after == 1.0


async def test_timeout_and_missing_key(provider, fake_openai):
    fake_openai.reset("hang")
    with pytest.raises(ProviderFailure) as caught:
        await provider.generate(_request(timeout=1.0))
    assert caught.value.kind is FailureKind.TIMEOUT
    with pytest.raises(ProviderFailure) as caught:
        await provider.generate(_request(api_key=None))
    assert caught.value.code == "no_api_key"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"model": "gpt-image-1-mini", "input_fidelity": "high"}, "not supported by gpt-image-1-mini"),
        ({"background": "transparent"}, "needs output_format png or webp"),
        ({"size": "640x480"}, "size"),
        ({"n": 2}, "n: unknown setting"),
    ],
)
def test_settings_are_validated_at_save_time(settings, message):
    with pytest.raises(InvalidSettings, match=message):
        validate_settings("openai", settings, "prompt")
