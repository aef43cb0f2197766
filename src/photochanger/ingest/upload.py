"""Receiving a booth upload: the multipart stream into a temp file, the password checked the
moment its part ends, size limits while streaming. Raises :class:`ApiError` with the stable
``failure_reason`` of each refusal (401, 400, 413)."""

import asyncio
import hmac
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from starlette.requests import ClientDisconnect

from photochanger.errors import ApiError
from photochanger.ingest.multipart import FormError, PasswordRejected, ReceivedForm, UploadTooLarge, read_form
from photochanger.ingest.sources import BoothUpload
from photochanger.throttle import ConcurrencyGate

FORM_OVERHEAD_BYTES = 64 * 1024  # allowance for the text fields around the photo


def refuse_declared_size(upload: BoothUpload, limit: int) -> None:
    """413 before the body is read when the declared ``Content-Length`` is over ``limit`` bytes
    (plus the form's overhead): a huge upload never leaves the booth."""
    if upload.content_length is not None and upload.content_length > limit + FORM_OVERHEAD_BYTES:
        detail = f"upload of {upload.content_length} bytes is over the {limit} byte limit"
        raise ApiError(413, "payload_too_large", detail)


class UploadIdle(Exception):
    """The client sent no byte for the idle limit."""


async def _with_idle_limit(body: AsyncIterator[bytes], idle: float) -> AsyncIterator[bytes]:
    """``body``'s chunks; :class:`UploadIdle` when the next one takes longer than ``idle`` seconds
    (a client that stops mid-upload is dropped instead of holding a connection and a temp file)."""
    iterator = aiter(body)
    while True:
        try:
            async with asyncio.timeout(idle):
                chunk = await anext(iterator)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise UploadIdle from None
        yield chunk


async def receive(
    upload: BoothUpload,
    form: ReceivedForm,
    temp: Path,
    limit: int,
    password: str,
    idle: float = 30.0,
    gate: ConcurrencyGate | None = None,
) -> None:
    """Stream the form into ``form`` (text fields) and ``temp`` (the photo, at most ``limit``
    bytes), checking the ingest ``password`` in constant time. 408 ``upload_timeout`` when the
    client sends nothing for ``idle`` seconds; 503 ``server_busy`` when ``gate``'s places for
    uploads not yet authenticated are all taken (a place is given back the moment the password
    part checks out)."""
    expected = password.encode()
    if gate is not None and not gate.enter():
        detail = "too many uploads in progress before their password was checked"
        raise ApiError(503, "server_busy", detail, headers={"Retry-After": "5"})
    holding = gate is not None

    def leave_gate() -> None:
        nonlocal holding
        if holding:
            holding = False
            gate.leave()  # type: ignore[union-attr]

    def check_password(value: str) -> bool:
        valid = hmac.compare_digest(value.encode(), expected)
        if valid:
            leave_gate()
        return valid

    try:
        await _receive(upload, form, temp, limit, idle, check_password)
    finally:
        leave_gate()


async def _receive(
    upload: BoothUpload,
    form: ReceivedForm,
    temp: Path,
    limit: int,
    idle: float,
    check_password: Callable[[str], bool],
) -> None:
    try:
        await read_form(form, _with_idle_limit(upload.body, idle), upload.content_type, temp, limit, check_password)
    except PasswordRejected:
        await _drain(_with_idle_limit(upload.body, idle), limit + FORM_OVERHEAD_BYTES)
        raise ApiError(401, "invalid_password", "wrong ingest password") from None
    except UploadTooLarge:
        raise ApiError(413, "payload_too_large", f"photo is over the {limit} byte limit") from None
    except FormError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None
    except ClientDisconnect:
        raise ApiError(400, "client_disconnected", "the client went away during the upload") from None
    except UploadIdle:
        raise ApiError(408, "upload_timeout", f"no upload data for {idle:g} s") from None
    if form.password is None:
        raise ApiError(401, "invalid_password", "the password field is missing")
    if form.file_field is None:
        raise ApiError(400, "invalid_request", "the photo field fileToUpload (or file) is missing")
    if form.file_bytes == 0:
        raise ApiError(400, "invalid_request", f"the {form.file_field} field is empty")


async def _drain(body: AsyncIterator[bytes], cap: int) -> None:
    """Read and discard the rest of the body (up to ``cap`` bytes), so the client reads our answer
    instead of a connection reset."""
    seen = 0
    try:
        async for chunk in body:
            seen += len(chunk)
            if seen > cap:
                return
    except (ClientDisconnect, UploadIdle):
        return
