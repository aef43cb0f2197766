"""A fake Gemini ``generateContent`` server that speaks the real wire protocol.

Protocol source: ``docs/providers.md`` (Gemini): requests in camelCase or snake_case with
standard or URL-safe base64; responses in camelCase; errors as google.rpc.Status bodies. It checks
the ``x-goog-api-key`` header, the ``v1beta`` path for image fields, input MIME types against the
bytes, ``imageSize`` casing and the forbidden image ``responseMimeType``, and records every request.

Scenarios (a queue consumed one per request, then ``default``): ``success``, ``thought`` (a thought
image before the final one), ``wrong_mime`` (JPEG bytes labelled image/png), ``no_image``,
``text_only``, ``image_safety``, ``prompt_blocked``, ``rate_limited`` (429 + RetryInfo 1 s),
``rate_limited_long`` (60 s), ``quota_zero``, ``error_500``, ``error_503``, ``hang``, ``slow``
(sleeps ``latency`` seconds then succeeds), ``people_removed`` (the faces cropped away),
``garbage_<shape>`` (see ``tests/fakes/garbage.py``).
``latency`` also delays every other answer.
"""

import asyncio
import base64
import binascii
import io
import json
from dataclasses import dataclass, field

from PIL import Image, ImageOps
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.garbage import garbage
from tests.fakes.server import ScriptedFake

ALLOWED_MIME = {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"}
MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG"}
GEMINI_GARBAGE = {
    "wrong_types": {"candidates": [{"content": {"parts": "an image"}, "finishReason": 7}], "usageMetadata": []},
    "bad_base64": {
        "candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "@@not"}}]}}]
    },
    "not_an_image": {
        "candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "aGVsbG8gd29ybGQ="}}]}}]
    },
}
USAGE = {"promptTokenCount": 1548, "candidatesTokenCount": 1290, "totalTokenCount": 2838}


@dataclass
class RecordedRequest:
    """What the fake received: path parts, headers, the JSON body's parts (images decoded)."""

    version: str
    model: str
    headers: dict
    body: dict
    parts: list = field(default_factory=list)  # ("image", mime, bytes) | ("text", str)


HANG_MARK = "[model hangs on this prompt]"  # a prompt containing it is never answered


def _b64decode(data: str) -> bytes:
    padded = data + "=" * (-len(data) % 4)
    return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)


def _status(code: int, status: str, message: str, details: list | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "status": status}}
    if details:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=code)


def _get(obj: dict, camel: str, snake: str):
    return obj.get(camel, obj.get(snake))


class FakeGemini(ScriptedFake):
    """See module docstring. ``api_key`` and ``spare_keys`` are the keys accepted."""

    def __init__(self, api_key: str = "test-gemini-key", spare_keys: tuple[str, ...] = ("spare-gemini-key",)) -> None:
        super().__init__(Starlette(routes=[Route("/{version}/models/{rest:path}", self._handle, methods=["POST"])]))
        self.api_key = api_key
        self.api_keys = {api_key, *spare_keys}
        self._cache: dict[tuple, bytes] = {}
        self.realistic = False  # answer as real image models do: a photographic PNG at the model's size

    async def _handle(self, request: Request) -> JSONResponse:
        version = request.path_params["version"]
        model, _, method = request.path_params["rest"].partition(":")
        if method != "generateContent":
            return _status(404, "NOT_FOUND", f"method {method} not found")
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        if key not in self.api_keys:
            info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
            return _status(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [info])
        raw = await request.body()
        await self.transmit(len(raw))
        body = json.loads(raw)
        recorded = RecordedRequest(version, model, dict(request.headers), body)
        self.record(recorded)
        problem = self._validate(version, body, recorded)
        if problem:
            return _status(400, "INVALID_ARGUMENT", problem)
        scenario = self.next_scenario()
        if any(part[0] == "text" and HANG_MARK in part[1] for part in recorded.parts):
            scenario = "hang"  # this prompt makes the model hang (whatever the script says)
        await asyncio.sleep(3600 if scenario == "hang" else self.latency)
        if scenario.startswith("garbage_"):
            return garbage(scenario.removeprefix("garbage_"), GEMINI_GARBAGE)
        return await asyncio.to_thread(self._answer, scenario, model, recorded)

    def _validate(self, version: str, body: dict, recorded: RecordedRequest) -> str | None:
        config = _get(body, "generationConfig", "generation_config") or {}
        if version != "v1beta" and ("responseModalities" in config or "response_modalities" in config):
            return "Invalid JSON payload received. Unknown name \"responseModalities\" at 'generation_config'"
        if _get(
            config,
            "responseMimeType",
            "response_mime_type",
        ) not in (None, "text/plain"):
            return "response_mime_type is not supported for generating image response"
        image_config = _get(config, "imageConfig", "image_config") or {}
        size = _get(image_config, "imageSize", "image_size")
        if size is not None and size not in ("512", "1K", "2K", "4K"):
            return f"Invalid image size {size!r}"
        for content in body.get("contents", []):
            for part in content.get("parts", []):
                inline = _get(part, "inlineData", "inline_data")
                if inline is None:
                    recorded.parts.append(("text", part.get("text", "")))
                    continue
                mime = _get(inline, "mimeType", "mime_type")
                if mime not in ALLOWED_MIME:
                    return f"Unsupported MIME type: {mime}"
                try:
                    data = _b64decode(inline["data"])
                except (binascii.Error, KeyError):
                    return "Invalid value at 'contents.parts.inline_data.data' (TYPE_BYTES), Base64 decoding failed"
                if mime in MAGIC and not data.startswith(MAGIC[mime]):
                    return f"Provided image is not valid: declared {mime} does not match the data"
                recorded.parts.append(("image", mime, data))
        return None

    def _edited(self, recorded: RecordedRequest, people: bool = True) -> bytes:
        """An obviously edited PNG (sepia, ≤1024 px) of the first image of the request; with
        ``people`` False, only its lower part is kept (the faces cropped away: people lost). With
        :attr:`realistic` the answer is what Gemini returns instead (:func:`realistic_answer`)."""
        source = next((p[2] for p in recorded.parts if p[0] == "image"), None)
        key = (source, people, self.realistic)
        if key not in self._cache:
            img = Image.open(io.BytesIO(source)).convert("RGB") if source else Image.new("RGB", (64, 64), "red")
            img.thumbnail((1024, 1024))
            if not people:
                img = img.crop((0, int(img.height * 0.55), img.width, img.height)).resize(img.size)
            if self.realistic:
                self._cache[key] = realistic_answer(img)
            else:
                sepia = ImageOps.colorize(ImageOps.grayscale(img), black="#2b1d0e", white="#fff4e0", mid="#a8845a")
                buffer = io.BytesIO()
                sepia.save(buffer, "PNG", compress_level=1)
                self._cache[key] = buffer.getvalue()
        return self._cache[key]

    def _answer(self, scenario: str, model: str, recorded: RecordedRequest) -> JSONResponse:
        def candidate(parts: list | None, finish: str, **extra) -> JSONResponse:
            item = {"finishReason": finish, "index": 0, **extra}
            if parts is not None:
                item["content"] = {"role": "model", "parts": parts}
            return JSONResponse(
                {
                    "candidates": [item],
                    "usageMetadata": USAGE,
                    "modelVersion": model,
                    "responseId": f"fake-{len(self.requests)}",
                }
            )

        def image_part(data: bytes, mime: str, **extra) -> dict:
            return {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}, **extra}

        if scenario == "people_removed":
            return candidate([image_part(self._edited(recorded, people=False), "image/png")], "STOP")
        if scenario in ("success", "slow"):
            return candidate(
                [{"text": "Here is the edited photo"}, image_part(self._edited(recorded), "image/png")], "STOP"
            )
        if scenario == "thought":
            draft = image_part(b"\x89PNG-not-the-final-image", "image/png", thought=True)
            return candidate([draft, image_part(self._edited(recorded), "image/png", thoughtSignature="c2ln")], "STOP")
        if scenario == "wrong_mime":
            with Image.open(io.BytesIO(self._edited(recorded))) as img:
                buffer = io.BytesIO()
                img.save(buffer, "JPEG", quality=90)
            return candidate([image_part(buffer.getvalue(), "image/png")], "STOP")
        if scenario == "no_image":
            return candidate(None, "NO_IMAGE")
        if scenario == "text_only":
            return candidate([{"text": "I can't draw that, but here is a description."}], "STOP")
        if scenario == "image_safety":
            return candidate(None, "IMAGE_SAFETY", finishMessage="The generated image was blocked by safety filters.")
        if scenario == "prompt_blocked":
            feedback = {"blockReason": "PROHIBITED_CONTENT", "blockReasonMessage": "The prompt was blocked."}
            return JSONResponse(
                {
                    "promptFeedback": feedback,
                    "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 0},
                    "modelVersion": model,
                    "responseId": "fake-blocked",
                }
            )
        if scenario in ("rate_limited", "rate_limited_long"):
            delay = "1s" if scenario == "rate_limited" else "60s"
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {"quotaMetric": "generate_content_requests", "quotaId": "GenerateRequestsPerMinute"}
                    ],
                },
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
            ]
            return _status(
                429, "RESOURCE_EXHAUSTED", f"You exceeded your current quota. Please retry in {delay}.", details
            )
        if scenario == "quota_zero":
            return _status(
                429, "RESOURCE_EXHAUSTED", "Quota exceeded for metric: generate_content_free_tier_requests, limit: 0"
            )
        if scenario == "error_500":
            return _status(500, "INTERNAL", "An internal error has occurred.")
        if scenario == "error_nul":  # a message PostgreSQL cannot store as it is (NUL, lone surrogate)
            return _status(400, "INVALID_ARGUMENT", "Request contains an invalid argument: \u0000 at\ud800 byte 7")
        if scenario == "error_503":
            return _status(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
        raise ValueError(f"unknown scenario {scenario}")


#: Gemini 2.5 Flash Image's output sizes by aspect ratio (width, height; about 1 MP each)
GEMINI_SIZES = {1.0: (1024, 1024), 1.5: (1248, 832), 2 / 3: (832, 1248), 4 / 3: (1184, 864), 3 / 4: (864, 1184),
                16 / 9: (1344, 768), 9 / 16: (768, 1344)}  # fmt: skip


def realistic_answer(photo: Image.Image) -> bytes:
    """A photographic PNG as image models return it: the photo at the model's size for its
    aspect ratio, graded, with the fine detail of a generated image (6 % noise: a 1 MP answer is
    ~1.2 MB, as real ones are; a flat or upscaled image inflates 2–3× faster and flatters every
    figure), saved at zlib's default level."""
    from PIL import ImageEnhance

    ratio = photo.width / photo.height
    size = GEMINI_SIZES[min(GEMINI_SIZES, key=lambda r: abs(r - ratio))]
    img = ImageEnhance.Color(ImageOps.fit(photo, size, Image.Resampling.BICUBIC)).enhance(1.25)
    img = Image.blend(img, Image.effect_noise(size, 12).convert("RGB"), 0.06)
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()
