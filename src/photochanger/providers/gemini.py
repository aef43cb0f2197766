"""Google Gemini image models through the official ``google-genai`` SDK.

Protocol: ``POST {base}/v1beta/models/{model}:generateContent`` with ``x-goog-api-key``; parts are
the photo, the templates, then the prompt; ``responseModalities: ["IMAGE"]``. The image is the last
non-thought ``inlineData`` part. Classification of every ``finishReason``/``blockReason`` and HTTP
error follows ``docs/providers.md`` (Gemini). SDK retries stay off: the
router owns retries under the request deadline.
"""

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

import httpx
import httpx2
from pydantic import Field, model_validator

from photochanger.providers import http
from photochanger.providers.base import FailureKind, ProviderFailure, ProviderImage, ProviderRequest, ProviderSettings
from photochanger.providers.pricing import TokenUsage, estimate

if TYPE_CHECKING:  # the SDK (~50 MB of modules) is imported on the first Gemini call, not at start
    from google import genai
    from google.genai import errors, types

Model = Literal["gemini-2.5-flash-image", "gemini-3-pro-image-preview", "gemini-3-pro-image", "gemini-3.1-flash-image"]
RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
PRO_SIZES = ("1K", "2K", "4K")


@dataclass(frozen=True)
class ModelCaps:
    """What a model accepts (docs/providers.md, Gemini) and its typical latency in seconds."""

    aspect_ratios: tuple[str, ...]
    image_sizes: tuple[str, ...]
    typical_latency: float


ALL_RATIOS = (*RATIOS, "1:4", "4:1", "1:8", "8:1")
MODELS: dict[str, ModelCaps] = {
    "gemini-2.5-flash-image": ModelCaps(RATIOS, (), 6.0),  # imageSize not accepted
    "gemini-3-pro-image-preview": ModelCaps(RATIOS, PRO_SIZES, 20.0),
    "gemini-3-pro-image": ModelCaps(RATIOS, PRO_SIZES, 20.0),
    # extra ratios and the 512 size are reported, unverified (docs/providers.md)
    "gemini-3.1-flash-image": ModelCaps(ALL_RATIOS, ("512", *PRO_SIZES), 8.0),
}
# Long side (px) of the photo each output size works from (docs/providers.md, photo sizes): the
# models answer about 1 MP at the default/1K size (2.5-flash 1024×1024, 864×1184 at 3:4), ~4 MP
# at 2K (1792×2400) and more at 4K; a larger photo only adds input tiles of 768 px.
INPUT_SIDE = {None: 1024, "512": 768, "1K": 1024, "2K": 2048, "4K": 4096}

# finishReason of a candidate without an image → how to handle it (docs/providers.md, failure classes).
_R, _C, _X = FailureKind.NO_IMAGE, FailureKind.CONTENT_REJECTED, FailureKind.CONFIG
FINISH_REASONS: dict[str, FailureKind] = {
    "FINISH_REASON_UNSPECIFIED": _R,
    "STOP": _R,
    "MAX_TOKENS": _R,
    "OTHER": _R,
    "NO_IMAGE": _R,
    "IMAGE_OTHER": _R,
    "MALFORMED_FUNCTION_CALL": _R,
    "UNEXPECTED_TOOL_CALL": _R,
    "TOO_MANY_TOOL_CALLS": _R,
    "MISSING_THOUGHT_SIGNATURE": _R,
    "MALFORMED_RESPONSE": _R,
    "CONTINUATION": _R,
    "SAFETY": _C,
    "RECITATION": _C,
    "BLOCKLIST": _C,
    "PROHIBITED_CONTENT": _C,
    "SPII": _C,
    "IMAGE_SAFETY": _C,
    "IMAGE_PROHIBITED_CONTENT": _C,
    "IMAGE_RECITATION": _C,
    "MODEL_ARMOR": _C,
    "ESCALATION": _C,
    "LANGUAGE": _X,
    "PUP_LIMITED_DISABLED": _X,
}
TRANSPORT_ERRORS = (httpx.TransportError, httpx2.TransportError)
TIMEOUT_ERRORS = (httpx.TimeoutException, httpx2.TimeoutException)


class GeminiSettings(ProviderSettings):
    """Slot settings for Gemini. ``image_size`` only on models that take it (uppercase K)."""

    model: Model = "gemini-2.5-flash-image"
    aspect_ratio: Literal[*ALL_RATIOS] | None = Field(  # pyright: ignore[reportInvalidTypeForm]  (valid since Python 3.11)
        default=None, description="allowed values depend on the model"
    )
    image_size: Literal["512", "1K", "2K", "4K"] | None = Field(default=None, description="3-Pro and 3.1 only")

    @model_validator(mode="after")
    def _fits_model(self) -> "GeminiSettings":
        caps = MODELS[self.model]
        if self.image_size and self.image_size not in caps.image_sizes:
            allowed = ", ".join(caps.image_sizes) if caps.image_sizes else "none"
            raise ValueError(f"image_size {self.image_size!r} is not supported by {self.model} (allowed: {allowed})")
        if self.aspect_ratio and self.aspect_ratio not in caps.aspect_ratios:
            raise ValueError(f"aspect_ratio {self.aspect_ratio!r} is not supported by {self.model}")
        return self


class GeminiProvider:
    """Gemini via ``client.aio.models.generate_content``; one SDK client per API key (the key comes
    with each request, so a key changed in the settings applies at once)."""

    name: ClassVar[str] = "gemini"
    settings_model: ClassVar[type[ProviderSettings]] = GeminiSettings
    requires_prompt: ClassVar[bool] = True
    requires_public_url: ClassVar[bool] = False
    circuit_breaker: ClassVar[bool] = True

    def __init__(self, base_url: str | None, max_answer_bytes: int = http.DEFAULT_MAX_ANSWER_BYTES) -> None:
        self._base_url = base_url
        self._max_answer_bytes = max_answer_bytes
        self._clients: dict[str, genai.Client] = {}

    def model_name(self, settings: GeminiSettings) -> str | None:
        return settings.model

    def typical_latency(self, settings: GeminiSettings) -> float:
        return MODELS[settings.model].typical_latency

    def input_side(self, settings: GeminiSettings) -> int | None:
        return INPUT_SIDE[settings.image_size]

    def _sdk(self, api_key: str | None) -> "genai.Client":
        if not api_key:
            raise ProviderFailure(FailureKind.UNAVAILABLE, "no_api_key", "no Gemini API key is configured")
        from google import genai
        from google.genai import types

        if api_key not in self._clients:
            options = types.HttpOptions(  # our client: no redirects (the SDK's own follows them), answers capped
                base_url=self._base_url,
                api_version="v1beta",
                httpx_async_client=http.client(self._max_answer_bytes, httpx2),  # the SDK's own default flavour
            )
            self._clients[api_key] = genai.Client(api_key=api_key, http_options=options)
        return self._clients[api_key]

    async def generate(self, request: ProviderRequest[GeminiSettings]) -> ProviderImage:
        from google.genai import errors, types

        settings = request.settings
        client = self._sdk(request.api_key)
        parts = [types.Part.from_bytes(data=image.data, mime_type=image.mime) for image in request.templates]
        contents = [types.Part.from_bytes(data=request.photo.data, mime_type=request.photo.mime), *parts]
        image_config = None
        if settings.aspect_ratio or settings.image_size:
            image_config = types.ImageConfig(aspect_ratio=settings.aspect_ratio, image_size=settings.image_size)
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=image_config,
            http_options=types.HttpOptions(timeout=max(1000, int(request.timeout * 1000))),
        )
        try:
            response = await client.aio.models.generate_content(
                model=settings.model, contents=[*contents, request.prompt], config=config
            )
        except errors.APIError as exc:
            raise classify_api_error(exc) from exc
        except http.AnswerRefused as exc:
            raise ProviderFailure(FailureKind.UNEXPECTED_RESPONSE, exc.code, exc.detail) from exc
        except TIMEOUT_ERRORS as exc:
            raise ProviderFailure(FailureKind.TIMEOUT, "timeout", type(exc).__name__) from exc
        except TRANSPORT_ERRORS as exc:
            raise ProviderFailure(FailureKind.SERVER_ERROR, "connection_error", type(exc).__name__) from exc
        return extract_image(response)


def extract_image(response: "types.GenerateContentResponse") -> ProviderImage:
    """The last non-thought image of the first candidate, or a classified :class:`ProviderFailure`."""
    request_id = response.response_id
    if not response.candidates:
        feedback = response.prompt_feedback
        if feedback and feedback.block_reason:
            reason = _name(feedback.block_reason)
            detail = feedback.block_reason_message or f"prompt blocked: {reason}"
            raise ProviderFailure(FailureKind.CONTENT_REJECTED, f"block_{reason}", detail, request_id=request_id)
        raise ProviderFailure(FailureKind.NO_IMAGE, "NO_CANDIDATES", "empty answer", request_id=request_id)
    candidate = response.candidates[0]
    parts = (candidate.content.parts if candidate.content else None) or []
    images = [p.inline_data.data for p in parts if p.inline_data and p.inline_data.data and not p.thought]
    if images:
        usage = _usage(response)
        return ProviderImage(images[-1], response.model_version, request_id, _cost(usage), usage)
    reason = _name(candidate.finish_reason) if candidate.finish_reason else "FINISH_REASON_UNSPECIFIED"
    kind = FINISH_REASONS.get(reason, FailureKind.NO_IMAGE)
    has_text = any(p.text for p in parts)
    code = "TEXT_ONLY" if reason == "STOP" and has_text else reason
    detail = candidate.finish_message or ("answered with text instead of an image" if has_text else reason)
    raise ProviderFailure(kind, code, detail, request_id=request_id)


def _usage(response: "types.GenerateContentResponse") -> TokenUsage | None:
    """The tokens Gemini reported (``usage_metadata``: prompt tokens by modality, candidates)."""
    usage = response.usage_metadata
    if usage is None:
        return None
    prompt = {
        str(getattr(d.modality, "value", d.modality)): d.token_count or 0 for d in usage.prompt_tokens_details or []
    }
    return TokenUsage(
        response.model_version,
        prompt.get("TEXT", 0),
        prompt.get("IMAGE", usage.prompt_token_count or 0),
        usage.candidates_token_count or 0,
    )


def _cost(usage: TokenUsage | None) -> float | None:
    if usage is None:
        return None
    return estimate(usage.model, usage.text_in, usage.image_in, usage.image_out)


def classify_api_error(exc: "errors.APIError") -> ProviderFailure:
    """Map a google.rpc.Status error (docs/providers.md, Gemini) to a :class:`ProviderFailure`."""
    body = exc.details.get("error", {}) if isinstance(exc.details, dict) else {}
    details = body.get("details") or []
    code = f"http_{exc.code}_{exc.status or ''}".rstrip("_")
    message = (exc.message or "")[:500]
    reasons = {d.get("reason") for d in details if isinstance(d, dict)}
    if exc.code == 429:
        if _quota_exhausted(details, message):
            return ProviderFailure(FailureKind.QUOTA_EXHAUSTED, "quota_exhausted", message)
        return ProviderFailure(FailureKind.RATE_LIMITED, code, message, retry_after=_retry_delay(details, message))
    if "API_KEY_INVALID" in reasons:
        return ProviderFailure(FailureKind.KEY_REJECTED, "api_key_invalid", message)
    if exc.code in (401, 403):
        return ProviderFailure(FailureKind.KEY_REJECTED, code, message)
    if exc.code == 402 or exc.status == "FAILED_PRECONDITION":
        return ProviderFailure(FailureKind.UNAVAILABLE, code, message)
    if exc.code in (499, 500, 502, 503, 504):
        return ProviderFailure(FailureKind.SERVER_ERROR, code, message)
    if exc.code >= 500 or exc.code < 400:  # an HTTP status the protocol does not define (e.g. a proxy's)
        return ProviderFailure(FailureKind.UNEXPECTED_RESPONSE, code, message)
    return ProviderFailure(FailureKind.CONFIG, code, message)


_SECONDS = re.compile(r"(\d+(?:\.\d+)?)s\b")


def _retry_delay(details: list, message: str) -> float | None:
    for detail in details:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("RetryInfo"):
            match = _SECONDS.search(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    match = re.search(r"retry in (\d+(?:\.\d+)?)s", message)
    return float(match.group(1)) if match else None


def _quota_exhausted(details: list, message: str) -> bool:
    """Per-day quotas and ``limit: 0`` (no quota on this tier) do not recover within a request."""
    if "limit: 0" in message:
        return True
    for detail in details:
        for violation in (detail.get("violations") or []) if isinstance(detail, dict) else []:
            if "PerDay" in str(violation.get("quotaId", "")):
                return True
    return False


def _name(value: object) -> str:
    return getattr(value, "value", None) or str(value)
