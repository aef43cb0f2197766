"""Streaming ``multipart/form-data`` reader for the booth upload (python-multipart's parser).

The photo goes straight to a file while it arrives (never held in memory) and is refused as soon
as it passes the size limit; the password is checked the moment its part ends, so a wrong password
stops the upload early. DSLR Remote Pro sends the photo as ``fileToUpload``; ``file`` is accepted.
"""

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

FILE_FIELDS = ("fileToUpload", "file")
PASSWORD_FIELD = "password"
MAX_FIELDS = 64  # text fields kept; more are dropped
MAX_VALUE_CHARS = 2048  # a longer value is cut
MAX_TEXT_BYTES = 256 * 1024  # text read in all; more is a malformed request
MAX_BOUNDARY = 70  # RFC 2046 §5.1.1: a boundary has 1 to 70 characters
BODY_OVERHEAD_BYTES = 1024 * 1024  # the whole body may exceed the photo limit by this (parts ignored included)


class FormError(ValueError):
    """Not a usable multipart/form-data body."""


class UploadTooLarge(Exception):
    """The file part passed ``max_file_bytes``."""


class PasswordRejected(Exception):
    """The password field did not match."""


@dataclass
class ReceivedForm:
    """What the booth sent: text fields (password removed, values capped), and the file's facts."""

    fields: dict[str, str] = field(default_factory=dict)
    password: str | None = None
    file_field: str | None = None
    filename: str | None = None
    declared_mime: str | None = None
    file_bytes: int = 0
    sha256: str | None = None
    authenticated: bool = False  # the password part checked out


class _Reader:
    def __init__(
        self, form: ReceivedForm, file_path: Path, max_file_bytes: int, check_password: Callable[[str], bool]
    ) -> None:
        self.form = form
        self.file_path = file_path
        self.max_file_bytes = max_file_bytes
        self.check_password = check_password
        self.handle: BinaryIO | None = None
        self.digest = hashlib.sha256()
        self.text_bytes = 0
        self._reset_part()

    def _reset_part(self) -> None:
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[str, bytes] = {}
        self.kind = "ignored"
        self.name = ""
        self.value = bytearray()

    def on_part_begin(self) -> None:
        self._reset_part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.header_field.decode("latin-1").lower()] = bytes(self.header_value)
        self.header_field, self.header_value = bytearray(), bytearray()

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self.headers.get("content-disposition", b""))
        self.name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if self.name in FILE_FIELDS and self.form.file_field is None:
            self.kind = "file"
            self.form.file_field = self.name
            self.form.filename = filename.decode("utf-8", "replace")[:255] if filename is not None else None
            self.form.declared_mime = self.headers.get("content-type", b"").decode("latin-1")[:100] or None
            self.handle = self.file_path.open("wb")
        elif filename is None:
            self.kind = "text"

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.kind == "file":
            self.form.file_bytes += len(chunk)
            if self.form.file_bytes > self.max_file_bytes:
                raise UploadTooLarge
            self.digest.update(chunk)
            self.handle.write(chunk)  # type: ignore[union-attr]
        elif self.kind == "text":
            self.text_bytes += len(chunk)
            if self.text_bytes > MAX_TEXT_BYTES:
                raise FormError("text fields exceed 256 KiB")
            self.value += chunk

    def on_part_end(self) -> None:
        if self.kind == "file":
            self.handle.close()  # type: ignore[union-attr]
            self.form.sha256 = self.digest.hexdigest()
        elif self.kind == "text":
            value = self.value.decode("utf-8", "replace")
            if self.name == PASSWORD_FIELD:
                self.form.password = value
                if not self.check_password(value):
                    raise PasswordRejected
                self.form.authenticated = True
            elif len(self.form.fields) < MAX_FIELDS and self.name not in self.form.fields:
                self.form.fields[self.name[:64]] = value[:MAX_VALUE_CHARS]

    def close(self) -> None:
        if self.handle is not None and not self.handle.closed:
            self.handle.close()


async def read_form(
    form: ReceivedForm,
    chunks: AsyncIterator[bytes],
    content_type: str,
    file_path: Path,
    max_file_bytes: int,
    check_password: Callable[[str], bool],
) -> None:
    """Read the body from ``chunks`` into ``form``, writing the photo part to ``file_path``.

    Raises :class:`FormError` (not multipart, malformed, cut short), :class:`UploadTooLarge` and
    :class:`PasswordRejected` as soon as they are known; ``form`` then holds what arrived before.
    The caller owns (and deletes) ``file_path``.
    """
    mime, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise FormError("expected multipart/form-data with a boundary")
    if len(boundary) > MAX_BOUNDARY:
        raise FormError(f"the multipart boundary is longer than {MAX_BOUNDARY} characters (RFC 2046)")
    reader = _Reader(form, file_path, max_file_bytes, check_password)
    callbacks = {name: getattr(reader, name) for name in dir(reader) if name.startswith("on_")}
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    ended = False

    def on_end() -> None:
        nonlocal ended
        ended = True

    parser.callbacks["on_end"] = on_end
    total, cap = 0, max_file_bytes + MAX_TEXT_BYTES + BODY_OVERHEAD_BYTES
    try:
        async for chunk in chunks:
            total += len(chunk)
            if total > cap:  # parts that are neither the photo nor text (ignored) count too
                raise UploadTooLarge
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise FormError(f"malformed multipart body: {exc}") from exc
    finally:
        reader.close()
    if not ended:
        raise FormError("multipart body ended before its closing boundary")
