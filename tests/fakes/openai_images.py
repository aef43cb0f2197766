"""A fake OpenAI Images server (``POST /v1/images/edits``) that speaks the real wire protocol.

Protocol source: ``docs/providers.md`` (OpenAI): multipart with ``image``/``image[]`` parts
that must carry a real image ``Content-Type`` (``application/octet-stream`` → 400
``unsupported_file_mimetype``), ``Authorization: Bearer``, JSON errors ``{"error": {message, type,
param, code}}``, ``x-request-id`` on every answer, ``retry-after-ms`` on rate limits.

Scenarios (a queue, then ``default``): ``success``, ``slow`` (after ``latency`` s), ``no_data``,
``moderation_blocked``, ``rate_limited``, ``insufficient_quota``, ``invalid_key``, ``error_500``,
``error_503``, ``hang``, ``people_removed`` (faces cropped away), ``garbage_<shape>`` (see ``tests/fakes/garbage.py``).
"""

import asyncio
import base64
import io
import uuid
from dataclasses import dataclass

from PIL import Image, ImageOps
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.garbage import garbage
from tests.fakes.server import ScriptedFake

MODELS = {"gpt-image-1.5", "gpt-image-1", "gpt-image-1-mini", "chatgpt-image-latest", "gpt-image-2"}
OPENAI_GARBAGE = {
    "wrong_types": {"created": "yesterday", "data": [{"b64_json": 42}], "usage": "lots"},
    "bad_base64": {"created": 1713833628, "data": [{"b64_json": "@@not-base64@@"}]},
    "not_an_image": {"created": 1713833628, "data": [{"b64_json": "aGVsbG8gd29ybGQ="}]},
}
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp"}
SIZES = {"1024x1024", "1536x1024", "1024x1536", "auto"}
FORMATS = {"png": ("PNG", "image/png"), "jpeg": ("JPEG", "image/jpeg"), "webp": ("WEBP", "image/webp")}


@dataclass
class RecordedEdit:
    """What the fake received: form fields and the image parts as (field name, MIME type, bytes)."""

    headers: dict
    fields: dict
    images: list


def _error(status: int, message: str, type_: str, code: str | None, param: str | None = None, headers=None):
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return JSONResponse(
        body, status_code=status, headers={"x-request-id": f"req_{uuid.uuid4().hex[:12]}", **(headers or {})}
    )


class FakeOpenAI(ScriptedFake):
    """See module docstring."""

    def __init__(self, api_key: str = "test-openai-key") -> None:
        super().__init__(Starlette(routes=[Route("/v1/images/edits", self._edit, methods=["POST"])]))
        self.api_key = api_key

    def start(self) -> "FakeOpenAI":
        super().start()
        self.url += "/v1"
        return self

    async def _edit(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        form = await request.form()
        images = []
        for name in ("image", "image[]"):
            for upload in form.getlist(name):
                images.append((name, upload.content_type, await upload.read()))
        fields = {k: v for k, v in form.items() if not k.startswith("image")}
        recorded = RecordedEdit(dict(request.headers), fields, images)
        self.record(recorded)
        problem = self._validate(fields, images)
        if problem:
            return _error(400, problem[0], "invalid_request_error", problem[1], problem[2])
        scenario = self.next_scenario()
        await asyncio.sleep(3600 if scenario == "hang" else self.latency)
        if scenario.startswith("garbage_"):
            return garbage(scenario.removeprefix("garbage_"), OPENAI_GARBAGE)
        return await asyncio.to_thread(self._answer, scenario, fields, images)

    @staticmethod
    def _validate(fields: dict, images: list) -> tuple[str, str, str] | None:
        if not images:
            return "image is required", "missing_required_parameter", "image"
        for n, (_name, mime, _data) in enumerate(images):
            if mime not in IMAGE_TYPES:
                return (
                    f"Invalid file 'image[{n}]': unsupported mimetype ('{mime}').",
                    "unsupported_file_mimetype",
                    f"image[{n}]",
                )
        if not fields.get("prompt"):
            return "prompt is required", "missing_required_parameter", "prompt"
        if fields.get("model") not in MODELS:
            return f"Invalid model {fields.get('model')!r}", "invalid_value", "model"
        if fields.get("size", "auto") not in SIZES:
            return f"Invalid size {fields.get('size')!r}", "invalid_value", "size"
        if fields.get("input_fidelity") and fields.get("model") == "gpt-image-1-mini":
            return "input_fidelity is not supported for gpt-image-1-mini", "invalid_value", "input_fidelity"
        return None

    def _answer(self, scenario: str, fields: dict, images: list) -> JSONResponse:
        request_id = {"x-request-id": f"req_{uuid.uuid4().hex[:12]}"}
        if scenario in ("success", "slow", "no_data", "people_removed"):
            fmt, _mime = FORMATS[fields.get("output_format", "png")]
            with Image.open(io.BytesIO(images[0][2])) as img:
                edited = ImageOps.mirror(img.convert("RGB"))
                edited.thumbnail((1024, 1024))
            if scenario == "people_removed":  # the faces cropped away
                edited = edited.crop((0, int(edited.height * 0.55), edited.width, edited.height)).resize(edited.size)
            buffer = io.BytesIO()
            edited.save(buffer, fmt)
            data = [] if scenario == "no_data" else [{"b64_json": base64.b64encode(buffer.getvalue()).decode()}]
            usage = {
                "input_tokens": 1500,
                "input_tokens_details": {"image_tokens": 1450, "text_tokens": 50},
                "output_tokens": 1584,
                "total_tokens": 3084,
            }
            return JSONResponse(
                {
                    "created": 1713833628,
                    "output_format": fields.get("output_format", "png"),
                    "quality": fields.get("quality", "auto"),
                    "data": data,
                    "usage": usage,
                },
                headers=request_id,
            )
        if scenario == "moderation_blocked":
            return _error(
                400,
                "Your request was rejected by the safety system. safety_violations=[sexual].",
                "image_generation_user_error",
                "moderation_blocked",
            )
        if scenario == "rate_limited":
            return _error(
                429,
                "Rate limit reached for gpt-image-1. Please try again in 1s.",
                "requests",
                "rate_limit_exceeded",
                headers={"retry-after-ms": "1000"},
            )
        if scenario == "insufficient_quota":
            return _error(
                429,
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                "insufficient_quota",
            )
        if scenario == "invalid_key":
            return _error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        if scenario in ("error_500", "error_503"):
            status = 500 if scenario == "error_500" else 503
            return _error(status, "The server had an error while processing your request.", "server_error", None)
        raise ValueError(f"unknown scenario {scenario}")
