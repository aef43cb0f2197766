"""Receiving a booth upload: the multipart stream into a temp file, the password checked the
moment its part ends, size limits while streaming, and until the password checks out the bounds
of an unauthenticated client (a place in the gate, a total time, a minimum rate). Raises
:class:`ApiError` with the stable ``failure_reason`` of each refusal (400, 401, 408, 413, 429, 503)."""

import asyncio
import hmac
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from starlette.requests import ClientDisconnect

from photochanger.clock import Clock
from photochanger.errors import ApiError
from photochanger.ingest.multipart import FormError, PasswordRejected, ReceivedForm, UploadTooLarge, read_form
from photochanger.ingest.sources import BoothUpload
from photochanger.throttle.service import Evicted, PasswordGuard, TooSlow, UploadGate, UploadPlace

FORM_OVERHEAD_BYTES = 64 * 1024  # allowance for the text fields around the photo


def refuse_declared_size(upload: BoothUpload, limit: int) -> None:
    """413 before the body is read when the declared ``Content-Length`` is over ``limit`` bytes
    (plus the form's overhead): a huge upload never leaves the booth."""
    if upload.content_length is not None and upload.content_length > limit + FORM_OVERHEAD_BYTES:
        detail = f"upload of {upload.content_length} bytes is over the {limit} byte limit"
        raise ApiError(413, "payload_too_large", detail)


class UploadIdle(Exception):
    """The client sent no byte for the idle limit."""


class PasswordThrottled(Exception):
    """The client IP is blocked for new passwords; ``retry_after`` whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


DRAIN_SECONDS = 5.0  # after a refusal, the rest of the body is read (and dropped) this long at most


async def _chunks(
    body: AsyncIterator[bytes], idle: float, clock: Clock, place: UploadPlace | None = None
) -> AsyncIterator[bytes]:
    """``body``'s chunks; :class:`UploadIdle` when the next one takes longer than ``idle`` seconds
    (a client that stops mid-upload is dropped instead of holding a connection and a temp file).
    While ``place`` (in the gate of unauthenticated uploads) is held, also its total time and
    minimum rate (:class:`TooSlow`) and its eviction (:class:`Evicted`, at once: the wait is woken)."""
    iterator = aiter(body)
    while True:
        guarded = place if place is not None and place.held else None  # after the password: the idle limit only
        wait = min(idle, guarded.must_arrive_by() - clock.monotonic()) if guarded else idle
        try:
            async with asyncio.timeout(max(wait, 0.0)) as timeout:
                if guarded:
                    guarded.wake = lambda: timeout.reschedule(asyncio.get_running_loop().time())
                chunk = await anext(iterator)
        except StopAsyncIteration:
            return
        except TimeoutError:
            if place is not None:
                place.check()
            raise UploadIdle from None
        finally:
            if guarded:
                guarded.wake = None
        if place is not None and place.held:
            place.got(len(chunk))
            place.check()
        yield chunk


async def receive(
    upload: BoothUpload,
    form: ReceivedForm,
    temp: Path,
    limit: int,
    password: str,
    *,
    clock: Clock,
    gate: UploadGate,
    guard: PasswordGuard,
    idle: float = 30.0,
    on_authenticated: Callable[[], object] | None = None,
) -> None:
    """Stream the form into ``form`` (text fields) and ``temp`` (the photo, at most ``limit``
    bytes), checking the ingest ``password`` in constant time through ``guard`` (429
    ``rate_limited`` for a blocked client IP's new password). 408 ``upload_timeout`` when the client
    sends nothing for ``idle`` seconds, or is too slow before its password checked out; 503
    ``server_busy`` when its place in ``gate`` went to a faster upload (a place is given back the
    moment the password part checks out, and ``on_authenticated`` is called then)."""
    expected = password.encode()
    place = gate.enter()
    client_ip = upload.origin.client_ip or "unknown"

    def right(value: str) -> bool:
        return hmac.compare_digest(value.encode(), expected)

    def check_password(value: str) -> bool:
        verdict = guard.check(client_ip, value, right)
        if verdict is True:
            place.leave()
            if on_authenticated is not None:
                on_authenticated()
            return True
        if verdict is False:
            return False
        raise PasswordThrottled(verdict)

    try:
        await _receive(upload, form, temp, limit, idle, clock, place, check_password)
    finally:
        place.leave()


async def _receive(
    upload: BoothUpload,
    form: ReceivedForm,
    temp: Path,
    limit: int,
    idle: float,
    clock: Clock,
    place: UploadPlace,
    check_password: Callable[[str], bool],
) -> None:
    try:
        await read_form(
            form, _chunks(upload.body, idle, clock, place), upload.content_type, temp, limit, check_password
        )
    except PasswordRejected:
        await _drain(upload.body, limit + FORM_OVERHEAD_BYTES)
        raise ApiError(401, "invalid_password", "wrong ingest password") from None
    except PasswordThrottled as throttled:
        await _drain(upload.body, limit + FORM_OVERHEAD_BYTES)
        detail = "too many wrong passwords from this address; wait before trying again"
        raise ApiError(429, "rate_limited", detail, headers={"Retry-After": str(throttled.retry_after)}) from None
    except UploadTooLarge:
        raise ApiError(413, "payload_too_large", f"photo is over the {limit} byte limit") from None
    except FormError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None
    except ClientDisconnect:
        raise ApiError(400, "client_disconnected", "the client went away during the upload") from None
    except UploadIdle:
        raise ApiError(408, "upload_timeout", f"no upload data for {idle:g} s") from None
    except TooSlow:
        detail = "the upload was too slow before its password (total time or minimum rate)"
        raise ApiError(408, "upload_timeout", detail) from None
    except Evicted:
        detail = "too many uploads in progress before their password was checked; this one was the slowest"
        raise ApiError(503, "server_busy", detail, headers={"Retry-After": "5"}) from None
    if form.password is None:
        raise ApiError(401, "invalid_password", "the password field is missing")
    if form.file_field is None:
        raise ApiError(400, "invalid_request", "the photo field fileToUpload (or file) is missing")
    if form.file_bytes == 0:
        raise ApiError(400, "invalid_request", f"the {form.file_field} field is empty")


async def _drain(body: AsyncIterator[bytes], cap: int) -> None:
    """Read and discard the rest of the body (up to ``cap`` bytes, for at most
    :data:`DRAIN_SECONDS`), so the client reads our answer instead of a connection reset."""
    seen = 0
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            async for chunk in body:
                seen += len(chunk)
                if seen > cap:
                    return
    except (ClientDisconnect, TimeoutError):
        return
