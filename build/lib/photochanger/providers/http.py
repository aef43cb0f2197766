"""The HTTP client every provider talks through: keys stay with their provider, answers are bounded.

:func:`client` makes an ``AsyncClient`` whose transport wraps httpx's (or httpx2's) and, for each
response,

* refuses every redirect (3xx): no provider protocol redirects, and following one would re-send
  the API key (``x-goog-api-key``, ``Authorization``) and the guest's photo to whatever host the
  ``Location`` names. Raises :class:`AnswerRefused` ``redirect`` naming that host;
* reads the body as a stream and stops past ``max_bytes`` (``PROVIDER_MAX_ANSWER_MB``, default
  64 MB; a declared ``Content-Length`` over it is refused before reading): :class:`AnswerRefused`
  ``answer_too_large``, so a 500 MB answer costs at most ``max_bytes`` of memory.

:class:`AnswerRefused` is not an httpx error, so no SDK retries it as a connection problem; each
provider maps it to a failed attempt of class ``unexpected_response``. The clients are built with
``follow_redirects=False`` as well (the google-genai SDK's own default is to follow).
"""

import functools
from types import ModuleType

import httpx
import structlog

log = structlog.get_logger("photochanger.providers")
DEFAULT_MAX_ANSWER_BYTES = 64 * 1024 * 1024


class AnswerRefused(Exception):
    """A provider answer we do not read: ``code`` (``redirect``, ``answer_too_large``,
    ``foreign_result_url``), ``detail`` and the ``host`` involved."""

    def __init__(self, code: str, detail: str, host: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.host = host


def refused_in(exc: BaseException) -> AnswerRefused | None:
    """The :class:`AnswerRefused` that ``exc`` is or was raised from (an SDK may wrap it)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, AnswerRefused):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


@functools.cache
def _guarded_transport(flavour: ModuleType) -> type:
    """The guarded transport class for ``flavour`` (``httpx``, or its fork ``httpx2`` that the
    google-genai SDK uses by default): the stream and transport classes must be that module's."""

    class CappedStream(flavour.AsyncByteStream):
        def __init__(self, inner, max_bytes: int, host: str) -> None:
            self.inner = inner
            self.max_bytes = max_bytes
            self.host = host

        async def __aiter__(self):
            seen = 0
            async for chunk in self.inner:
                seen += len(chunk)
                if seen > self.max_bytes:
                    log.warning("provider.answer_too_large", host=self.host, max_bytes=self.max_bytes)
                    raise AnswerRefused("answer_too_large", f"answer over {self.max_bytes} bytes", self.host)
                yield chunk

        async def aclose(self) -> None:
            await self.inner.aclose()

    class Transport(flavour.AsyncBaseTransport):
        def __init__(self, max_bytes: int) -> None:
            self.max_bytes = max_bytes
            self.inner = flavour.AsyncHTTPTransport()

        async def handle_async_request(self, request):
            response = await self.inner.handle_async_request(request)
            host = request.url.host
            if 300 <= response.status_code < 400:
                await response.aclose()
                target = response.headers.get("location", "")
                other = flavour.URL(target).host if target else ""
                log.warning("provider.redirect_refused", host=host, location_host=other or host)
                raise AnswerRefused("redirect", f"redirect {response.status_code} to {other or host!r} refused", other)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                await response.aclose()
                log.warning("provider.answer_too_large", host=host, declared=int(declared))
                raise AnswerRefused("answer_too_large", f"answer of {declared} bytes over {self.max_bytes}", host)
            response.stream = CappedStream(response.stream, self.max_bytes, host)
            return response

        async def aclose(self) -> None:
            await self.inner.aclose()

    Transport.__name__ = Transport.__qualname__ = f"GuardedTransport[{flavour.__name__}]"
    return Transport


def client(max_bytes: int = DEFAULT_MAX_ANSWER_BYTES, flavour: ModuleType = httpx, **options):
    """An ``AsyncClient`` of ``flavour`` (``httpx`` or ``httpx2``) over the guarded transport of the
    module docstring, never following redirects."""
    return flavour.AsyncClient(transport=_guarded_transport(flavour)(max_bytes), follow_redirects=False, **options)
