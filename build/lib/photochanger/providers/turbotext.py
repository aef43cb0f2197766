"""Turbotext photo AI (``https://www.turbotext.ru/api_ai/{method}``) over httpx.

Protocol: ``docs/providers.md`` (Turbotext). Every call is a form-encoded POST with
``Authorization: Bearer``; ``do=create_queue`` returns a ``queueid``, then ``do=get_result`` is
polled every 2 s (``{"action": "reconnect"}`` while running) until the result, whose image URL is
at top-level ``uploaded_image``, ``data.uploaded_image`` or relative in ``data.image[]`` (tried in
that order). Inputs reach Turbotext as short-lived public URLs (``publish``). Each
``create_queue`` is billed: a queue is re-created only when the first one clearly failed (refused
connection, 5xx); after an ambiguous timeout the attempt ends without retrying.
"""

import asyncio
from typing import ClassVar, Literal
from urllib.parse import urljoin

import httpx
from pydantic import Field

from photochanger.clock import SYSTEM_CLOCK, Clock
from photochanger.providers import http
from photochanger.providers.base import (
    FailureKind,
    InputImage,
    ProviderFailure,
    ProviderImage,
    ProviderRequest,
    ProviderSettings,
)

DEFAULT_BASE_URL = "https://www.turbotext.ru/api_ai"
POLL_INTERVAL_SECONDS = 2.0
HTTP_TIMEOUT_SECONDS = 15.0
QUOTA_ERRORS = ("LIMIT",)
CREATE_RETRY_DELAY_SECONDS = 2.0
CREATE_RETRY_MIN_SECONDS = 10.0
INPUT_SIDE = 1536  # undocumented upstream; its results come back at about this size, and it fetches over the internet


class TurbotextSettings(ProviderSettings):
    """``method``: ``generate_image2image`` (photo + prompt), ``mix_images`` (photo in the style of
    the slot's first ``style``/``template`` image) or ``deepfake_photo`` (the slot's ``face`` image
    put on the photo)."""

    method: Literal["generate_image2image", "mix_images", "deepfake_photo"] = "generate_image2image"
    strength: int | None = Field(default=None, ge=0, le=80)
    scale: float | None = Field(default=None, ge=0.1, le=20)
    seed: int | None = Field(default=None, ge=1, le=10**10)
    negative_prompt: str | None = Field(default=None, max_length=600)
    original_language: str | None = Field(default=None, max_length=8)
    face_restore: bool = True


def _template(request: ProviderRequest, roles: tuple[str, ...]) -> InputImage:
    for image in request.templates:
        if image.role in roles:
            return image
    raise ProviderFailure(FailureKind.CONFIG, "missing_template", f"needs a template with role {' or '.join(roles)}")


class TurbotextProvider:
    """See module docstring. ``poll_interval`` seconds between ``get_result`` calls; ``clock``
    measures the attempt's remaining time (the loop's, so tests run it on virtual time)."""

    name: ClassVar[str] = "turbotext"
    settings_model: ClassVar[type[ProviderSettings]] = TurbotextSettings
    requires_prompt: ClassVar[bool] = False
    requires_public_url: ClassVar[bool] = True
    circuit_breaker: ClassVar[bool] = True

    def __init__(
        self,
        base_url: str | None,
        poll_interval: float = POLL_INTERVAL_SECONDS,
        max_answer_bytes: int = http.DEFAULT_MAX_ANSWER_BYTES,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.poll_interval = poll_interval
        self.clock = clock
        self._client = http.client(max_answer_bytes)  # no redirects, answers capped

    def model_name(self, settings: TurbotextSettings) -> str | None:
        return settings.method

    def typical_latency(self, settings: TurbotextSettings) -> float:
        return 15.0

    def input_side(self, settings: TurbotextSettings) -> int | None:
        return INPUT_SIDE

    async def _fields(self, request: ProviderRequest[TurbotextSettings], settings: TurbotextSettings) -> dict[str, str]:
        if request.publish is None:
            raise ProviderFailure(FailureKind.CONFIG, "no_public_url", "Turbotext needs PHOTOCHANGER_PUBLIC_BASE_URL")
        photo_url = await request.publish(request.photo)
        if settings.method == "mix_images":
            fields = {
                "url_image_target": photo_url,
                "url": await request.publish(_template(request, ("style", "template"))),
            }
            if request.prompt:
                fields["content"] = request.prompt
        elif settings.method == "deepfake_photo":
            face = await request.publish(_template(request, ("face",)))
            fields = {"url": photo_url, "url_image_target": face, "face_restore": str(settings.face_restore)}
        else:
            fields = {"url": photo_url, "content": request.prompt or "photo"}
        for key in ("strength", "scale", "seed", "negative_prompt", "original_language"):
            value = getattr(settings, key)
            if value is not None and settings.method == "generate_image2image":
                fields[key] = str(value)
        return fields

    async def _call(self, method: str, data: dict[str, str], api_key: str, seconds: float) -> dict:
        try:
            response = await self._client.post(
                f"{self.base_url}/{method}", data=data, timeout=seconds, headers={"Authorization": f"Bearer {api_key}"}
            )
        except http.AnswerRefused as exc:
            raise ProviderFailure(FailureKind.UNEXPECTED_RESPONSE, exc.code, exc.detail) from exc
        if response.status_code >= 500:
            raise ProviderFailure(FailureKind.SERVER_ERROR, f"http_{response.status_code}", response.text[:200])
        if response.status_code in (401, 403):
            raise ProviderFailure(FailureKind.KEY_REJECTED, f"http_{response.status_code}", response.text[:200])
        try:
            answer = response.json()
        except ValueError:
            raise ProviderFailure(FailureKind.UNEXPECTED_RESPONSE, "invalid_json", response.text[:200]) from None
        if not isinstance(answer, dict):
            raise ProviderFailure(FailureKind.UNEXPECTED_RESPONSE, "invalid_json", f"JSON {type(answer).__name__}")
        return answer

    async def generate(self, request: ProviderRequest[TurbotextSettings]) -> ProviderImage:
        settings = request.settings
        if not request.api_key:
            raise ProviderFailure(FailureKind.UNAVAILABLE, "no_api_key", "no Turbotext API key is configured")
        end = self.clock.monotonic() + request.timeout
        fields = await self._fields(request, settings)

        def left() -> float:
            return max(0.5, min(HTTP_TIMEOUT_SECONDS, end - self.clock.monotonic()))

        created = await self._create_queue(settings.method, fields, request.api_key, end, left)
        queue_id = created.get("queueid")
        if not created.get("success") or not queue_id:
            raise _refusal(created.get("error"))
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                result = await self._call(
                    settings.method, {"do": "get_result", "queueid": str(queue_id)}, request.api_key, left()
                )
            except (httpx.TransportError, ProviderFailure) as exc:
                if isinstance(exc, ProviderFailure) and exc.kind is not FailureKind.SERVER_ERROR:
                    raise
                continue  # polling is idempotent: just poll again
            if result.get("action") == "reconnect":
                continue
            if not result.get("success"):
                raise _refusal(result.get("error"), str(queue_id))
            return ProviderImage(await self._download(result, request.api_key, left), settings.method, str(queue_id))

    async def _create_queue(self, method: str, fields: dict, api_key: str, end: float, left) -> dict:
        """``create_queue``, re-sent once (after 2 s, if 10 s remain) only when it clearly failed:
        refused connection or 5xx. An answer lost after sending is ambiguous and never re-sent."""
        failure = ProviderFailure(FailureKind.SERVER_ERROR, "connection_error", "create_queue not sent")
        for attempt in (1, 2):
            try:
                return await self._call(method, {"do": "create_queue", **fields}, api_key, left())
            except httpx.ConnectError:
                failure = ProviderFailure(FailureKind.SERVER_ERROR, "connection_error", "create_queue not sent")
            except httpx.TransportError as exc:  # sent, answer lost: it may be queued and billed
                raise ProviderFailure(FailureKind.TIMEOUT, "create_queue_ambiguous", type(exc).__name__) from exc
            except ProviderFailure as exc:
                if exc.kind is not FailureKind.SERVER_ERROR:
                    raise
                failure = exc
            if attempt == 2 or end - self.clock.monotonic() < CREATE_RETRY_MIN_SECONDS:
                break
            await asyncio.sleep(CREATE_RETRY_DELAY_SECONDS)
        raise ProviderFailure(FailureKind.UNAVAILABLE, failure.code, f"create_queue failed: {failure.detail}")

    async def _download(self, result: dict, api_key: str, left) -> bytes:
        data = result.get("data") or {}
        images = data.get("image") or []
        location = result.get("uploaded_image") or data.get("uploaded_image") or (images[0] if images else None)
        if not location:
            raise ProviderFailure(FailureKind.NO_IMAGE, "NO_IMAGE", "result without an image")
        url = urljoin(self.base_url.split("/api_ai")[0] + "/", str(location))
        api, result_at = httpx.URL(self.base_url), httpx.URL(url)
        if (result_at.scheme, result_at.host, result_at.port) != (api.scheme, api.host, api.port):
            http.log.warning(
                "provider.foreign_result_url", host=result_at.host
            )  # the key goes to the API's origin only
            detail = f"result URL on another host ({result_at.host!r}) refused"
            raise ProviderFailure(FailureKind.UNEXPECTED_RESPONSE, "foreign_result_url", detail)
        while True:
            try:
                response = await self._client.get(url, headers={"Authorization": f"Bearer {api_key}"}, timeout=left())
                if response.status_code == 200 and response.content:
                    return response.content
            except http.AnswerRefused as exc:
                raise ProviderFailure(FailureKind.UNEXPECTED_RESPONSE, exc.code, exc.detail) from exc
            except httpx.TransportError:
                pass
            await asyncio.sleep(1.0)  # 404/410/5xx right after completion: retry while time remains


def _refusal(error: object, request_id: str | None = None) -> ProviderFailure:
    text = str(error or "refused")
    if any(marker in text.upper() for marker in QUOTA_ERRORS):
        return ProviderFailure(FailureKind.QUOTA_EXHAUSTED, "quota_exhausted", text, request_id=request_id)
    return ProviderFailure(FailureKind.CONFIG, "refused", text[:300], request_id=request_id)
