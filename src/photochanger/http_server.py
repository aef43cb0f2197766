"""The HTTP/1.1 server's own limits on clients that have not finished their request headers.

uvicorn (httptools) has no request-header timeout and no header size limit, so a client sending
one header line every few seconds (slowloris) keeps its socket for ever, and a 64 MB header is
parsed to the end on the event loop. :class:`GuardedHttpToolsProtocol` is uvicorn's httptools
protocol with three bounds added, each answered the way RFC 9110/6585 name it:

* **header-read timeout** — the request line and headers must be complete within
  ``HEADER_TIMEOUT_SECONDS`` (10) of the connection's first byte wait (or the previous answer):
  ``408 Request Timeout``, connection closed;
* **header size** — request line plus headers over ``MAX_HEADER_BYTES`` (64 KiB): ``431 Request
  Header Fields Too Large`` at once (RFC 6585 §5), before more is read;
* **connections still sending headers** — at most ``MAX_CONNECTIONS_READING_HEADERS`` (512) per
  process; one more closes the *oldest* of them (the slowest sender: a booth's headers arrive in
  milliseconds), so slow clients cannot take the file descriptors a booth needs.

And one RFC 9112 §3.2 rule uvicorn does not check: a request with more than one ``Host`` header
is answered ``400``. Everything else (``Expect: 100-continue``, streaming bodies, keep-alive,
graceful shutdown) is uvicorn's. The limits are read once per process from the environment
(:class:`photochanger.config.Config`), so ``serve --workers N`` children apply the same.
"""

import functools
from collections import OrderedDict
from dataclasses import dataclass

import httptools
import structlog
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

log = structlog.get_logger("photochanger.http")


@dataclass(frozen=True)
class HeaderLimits:
    """Bounds on the request head: ``timeout`` seconds to send it, ``max_bytes`` for the request
    line plus every header (name, value and separators), ``max_pending`` connections per process
    that have not finished theirs."""

    timeout: float = 10.0
    max_bytes: int = 64 * 1024
    max_pending: int = 512


@functools.cache
def limits() -> HeaderLimits:
    """This process's :class:`HeaderLimits` (from ``PHOTOCHANGER_HEADER_TIMEOUT_SECONDS``,
    ``…_MAX_HEADER_BYTES``, ``…_MAX_CONNECTIONS_READING_HEADERS``)."""
    from photochanger.config import Config  # the environment, read once per process

    config = Config()
    return HeaderLimits(config.header_timeout_seconds, config.max_header_bytes, config.max_connections_reading_headers)


# Connections of this process still sending their request head, oldest first (one event loop per process).
_reading: "OrderedDict[GuardedHttpToolsProtocol, None]" = OrderedDict()


def connections_reading_headers() -> int:
    """How many connections of this process are still sending their request head."""
    return len(_reading)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the header bounds of this module (pass the class as
    ``uvicorn.run(http=...)``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.head_limits = limits()
        self._head_bytes = 0
        self._head_timer = None
        self._refused = False
        self._between_messages = True  # the parser waits for a request line (not inside a body)

    # The head of each request: from connection (or the previous answer) to the end of its headers.
    def _start_head(self) -> None:
        if self._head_timer is None:
            self._head_bytes = 0
            self._head_timer = self.loop.call_later(self.head_limits.timeout, self._head_timed_out)
            _reading[self] = None
            while len(_reading) > self.head_limits.max_pending:
                oldest = next(iter(_reading))
                oldest._refuse(408, "too many connections still sending headers", evicted=True)

    def _end_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        _reading.pop(self, None)

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._end_head()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # bytes still in flight after a refusal
        self._unset_keepalive_if_required()
        if self._head_timer is None and self._between_messages:
            self._start_head()  # the first byte of the next request on a kept-alive connection
        if self._head_timer is not None:
            if self._head_bytes > self.head_limits.max_bytes:  # still no end of headers: parse no more
                self._refuse(431, "request headers are too large")
                return
            self._head_bytes += len(data)  # parsed at most max_bytes + one read (256 KiB) before refusing
        try:
            self.parser.feed_data(data)  # pyright: ignore[reportOptionalMemberAccess]  (made in connection_made)
        except httptools.HttpParserCallbackError:
            if not self._refused:
                self._invalid()
        except httptools.HttpParserError:
            self._invalid()
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        if self._head_timer is not None and self._head_bytes > self.head_limits.max_bytes:
            # over the limit and still no end of headers: refuse now, not when (if ever) more arrives
            self._refuse(431, "request headers are too large")

    def _invalid(self) -> None:
        msg = "Invalid HTTP request received."
        self.logger.warning(msg)
        self.send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._between_messages = False

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._between_messages = True  # bytes after this are the next request's head, not this one's body

    def on_headers_complete(self) -> None:
        self._end_head()
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.head_limits.max_bytes:
            self._refuse(431, "request headers are too large")
            raise _Refused  # stops the parser: nothing of this request reaches the application
        if sum(1 for name, _ in self.headers if name == b"host") > 1:
            self._refuse(400, "more than one Host header (RFC 9112 section 3.2)")
            raise _Refused
        super().on_headers_complete()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        self._refuse(408, "request headers were not sent in time")

    def _refuse(self, status: int, message: str, evicted: bool = False) -> None:
        """Answer ``status`` with a plain-text ``message`` and close the connection."""
        self._end_head()
        if self._refused or self.transport.is_closing():
            return
        if evicted:
            log.info("http.connection_evicted", client_ip=self.client[0] if self.client else None)
        body = message.encode()
        head = [STATUS_LINE[status]]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self._refused = True
        self.transport.write(b"".join(head) + body)
        self.transport.close()


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a refused request."""
