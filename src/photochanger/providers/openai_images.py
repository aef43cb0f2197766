"""OpenAI Images edits (``POST /v1/images/edits``) through the official ``openai`` SDK.

Protocol: ``docs/providers.md`` (OpenAI): multipart with the photo first, then templates,
each as ``image[]`` with its real MIME type (``application/octet-stream`` is refused). SDK retries
are off (``max_retries=0``); the router owns retries under the deadline. Failure classes: same document.
"""

import base64
import re
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import model_validator

from photochanger.imaging import EXTENSION_BY_MIME
from photochanger.providers import http
from photochanger.providers.base import FailureKind, ProviderFailure, ProviderImage, ProviderRequest, ProviderSettings
from photochanger.providers.pricing import TokenUsage, estimate

if TYPE_CHECKING:  # the SDK (~40 MB of modules) is imported on the first OpenAI call, not at start
    import openai

TYPICAL_LATENCY_SECONDS = {"gpt-image-1.5": 20.0, "gpt-image-1": 25.0, "gpt-image-1-mini": 12.0}
INPUT_SIDE = 1536  # gpt-image answers at most 1536 px (sizes 1024x1024, 1536x1024, 1024x1536)


class OpenAISettings(ProviderSettings):
    """Slot settings for OpenAI image edits (``input_fidelity`` is not available on ``-mini``)."""

    model: Literal["gpt-image-1.5", "gpt-image-1", "gpt-image-1-mini"] = "gpt-image-1.5"
    size: Literal["1024x1024", "1536x1024", "1024x1536", "auto"] = "auto"
    quality: Literal["low", "medium", "high", "auto"] = "medium"
    input_fidelity: Literal["high", "low"] | None = None
    output_format: Literal["jpeg", "png", "webp"] = "jpeg"
    background: Literal["transparent", "opaque", "auto"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "OpenAISettings":
        if self.input_fidelity and self.model == "gpt-image-1-mini":
            raise ValueError("input_fidelity is not supported by gpt-image-1-mini")
        if self.background == "transparent" and self.output_format == "jpeg":
            raise ValueError("a transparent background needs output_format png or webp")
        return self


class OpenAIProvider:
    """Image edits via ``AsyncOpenAI(...).images.edit``; one SDK client per key."""

    name: ClassVar[str] = "openai"
    settings_model: ClassVar[type[ProviderSettings]] = OpenAISettings
    requires_prompt: ClassVar[bool] = True
    requires_public_url: ClassVar[bool] = False
    circuit_breaker: ClassVar[bool] = True

    def __init__(self, base_url: str | None, max_answer_bytes: int = http.DEFAULT_MAX_ANSWER_BYTES) -> None:
        self._max_answer_bytes = max_answer_bytes
        self._base_url = base_url
        self._clients: dict[str, openai.AsyncOpenAI] = {}

    def model_name(self, settings: OpenAISettings) -> str | None:
        return settings.model

    def typical_latency(self, settings: OpenAISettings) -> float:
        return TYPICAL_LATENCY_SECONDS[settings.model]

    def input_side(self, settings: OpenAISettings) -> int | None:
        return INPUT_SIDE

    def _sdk(self, api_key: str | None) -> "openai.AsyncOpenAI":
        if not api_key:
            raise ProviderFailure(FailureKind.UNAVAILABLE, "no_api_key", "no OpenAI API key is configured")
        import openai

        if api_key not in self._clients:
            self._clients[api_key] = openai.AsyncOpenAI(
                api_key=api_key,
                base_url=self._base_url,
                max_retries=0,
                http_client=http.client(self._max_answer_bytes),  # no redirects, answers capped
            )
        return self._clients[api_key]

    async def generate(self, request: ProviderRequest[OpenAISettings]) -> ProviderImage:
        import openai

        settings = request.settings
        images = [request.photo, *request.templates]
        files = [(f"image{n}{EXTENSION_BY_MIME.get(i.mime, '.png')}", i.data, i.mime) for n, i in enumerate(images)]
        options = {"input_fidelity": settings.input_fidelity, "background": settings.background}
        client = self._sdk(request.api_key).with_options(timeout=request.timeout)
        try:
            response = await client.images.edit(  # pyright: ignore[reportCallIssue]
                model=settings.model,
                prompt=request.prompt,
                image=files,
                size=settings.size,
                quality=settings.quality,
                output_format=settings.output_format,
                **{k: v for k, v in options.items() if v is not None},  # pyright: ignore[reportArgumentType]
            )
        except openai.APITimeoutError as exc:
            raise ProviderFailure(FailureKind.TIMEOUT, "timeout", str(exc)) from exc
        except openai.APIConnectionError as exc:
            if refused := http.refused_in(exc):  # the SDK wraps what the transport raised
                raise ProviderFailure(FailureKind.UNEXPECTED_RESPONSE, refused.code, refused.detail) from exc
            raise ProviderFailure(FailureKind.SERVER_ERROR, "connection_error", str(exc)) from exc
        except http.AnswerRefused as exc:
            raise ProviderFailure(FailureKind.UNEXPECTED_RESPONSE, exc.code, exc.detail) from exc
        except openai.APIStatusError as exc:
            raise classify_status_error(exc) from exc
        request_id = getattr(response, "_request_id", None)
        if not response.data or not response.data[0].b64_json:
            raise ProviderFailure(FailureKind.NO_IMAGE, "NO_IMAGE", "answer without an image", request_id=request_id)
        usage = _usage(settings.model, response)
        cost = estimate(usage.model, usage.text_in, usage.image_in, usage.image_out) if usage else None
        return ProviderImage(base64.b64decode(response.data[0].b64_json), settings.model, request_id, cost, usage)


def _usage(model: str, response: object) -> TokenUsage | None:
    """The tokens OpenAI reported (``usage``: input by text and image, output)."""
    usage = getattr(response, "usage", None)
    if usage is None:
        return None
    details = getattr(usage, "input_tokens_details", None)
    image_in = getattr(details, "image_tokens", 0) or 0
    text_in = getattr(details, "text_tokens", 0) or max(0, (usage.input_tokens or 0) - image_in)
    return TokenUsage(model, text_in, image_in, usage.output_tokens or 0)


def classify_status_error(exc: "openai.APIStatusError") -> ProviderFailure:
    """Map an HTTP error (docs/providers.md, OpenAI) to a :class:`ProviderFailure`."""
    code = exc.code or ""
    message = (exc.message or "")[:500]
    name = f"http_{exc.status_code}" + (f"_{code}" if code else "")
    kind = FailureKind.CONFIG
    retry_after = None
    if exc.status_code == 400 and code == "moderation_blocked":
        kind = FailureKind.CONTENT_REJECTED
    elif exc.status_code in (401, 403):
        kind = FailureKind.KEY_REJECTED
    elif exc.status_code == 429 and code == "insufficient_quota":
        kind, name = FailureKind.QUOTA_EXHAUSTED, "quota_exhausted"
    elif exc.status_code == 429:
        kind, retry_after = FailureKind.RATE_LIMITED, _retry_after(exc)
    elif exc.status_code >= 500:
        kind = FailureKind.SERVER_ERROR
    elif exc.status_code < 400:
        kind = FailureKind.UNEXPECTED_RESPONSE
    return ProviderFailure(kind, name, message, retry_after=retry_after, request_id=exc.request_id)


def _retry_after(exc: "openai.APIStatusError") -> float | None:
    headers = exc.response.headers
    if headers.get("retry-after-ms"):
        return float(headers["retry-after-ms"]) / 1000
    if headers.get("retry-after"):
        try:
            return float(headers["retry-after"])
        except ValueError:
            return None
    match = re.search(r"try again in (\d+(?:\.\d+)?)s", exc.message or "")
    return float(match.group(1)) if match else None
