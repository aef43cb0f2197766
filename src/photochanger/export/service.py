"""Bulk export of an event: a ZIP streamed as it is built (``stream-zip``; nothing held in memory
but one chunk of one file and the CSV's rows), with

- ``results/<time>_<slot>_<job>.<ext>``: every booth photo's result still kept (the AI photo,
  or what the booth got when there was none),
- ``originals/…`` with ``originals=True``,
- ``photos.csv`` last: a row per booth photo of the event (job id, time, slot, status, failure
  reason, fallback, late state, result and original file names in the ZIP, take-home URL, then a
  column per booth field and per query value seen), UTF-8 **with a byte-order mark** so that
  spreadsheets read Cyrillic correctly, comma-separated (RFC 4180).

Photos are stored compressed already (JPEG, PNG, WebP), so members are *stored* in deflate's
level 0 (a copy in 64 KiB blocks, no CPU to speak of); the CSV is deflated. The ZIP is written
in a thread of its own a piece at a time (CRC-32 off the event loop), files are read from the
media store (folder or S3) a piece at a time, and the rows of the event are read in keyset pages
of :data:`PAGE`, so the server's memory does not grow with the event's size.

A download from the browser carries a short-lived *ticket* instead of the admin's bearer token
(:func:`issue_ticket`): a JWT (HS256, the server's JWT secret) with ``aud`` ``export`` and the
event's id, valid :data:`TICKET_SECONDS`.
"""

import asyncio
import concurrent.futures
import contextlib
import csv
import io
import os
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs

import jwt
import structlog

from photochanger.db import Database, utcnow
from photochanger.export import repository
from photochanger.storage import MediaStore, StoredObject
from photochanger.urls import take_home_url

log = structlog.get_logger("photochanger.export")
PAGE = 500  # rows read per query
CHUNK = 1024 * 1024  # bytes read from a file at once, and of ZIP per piece handed to the loop
PREFETCH = 4  # folder files asked of the disk ahead of the one being zipped
QUEUE = 4  # pieces of ZIP waiting for a slow client at most
T = TypeVar("T")
TICKET_SECONDS = 120
TICKET_AUDIENCE = "export"
FILE_MODE = 0o600
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
BOM = "\ufeff"
FIXED_COLUMNS = [
    "job_id",
    "received_at",
    "slot_id",
    "status",
    "failure_reason",
    "fallback",
    "late_state",
    "hidden",
    "result_file",
    "original_file",
    "take_home_url",
]


class InvalidTicket(Exception):
    """The export ticket is missing, expired, forged or for another event."""


def issue_ticket(secret: str, event_id: str, now: datetime | None = None) -> str:
    """A ticket for downloading ``event_id``'s export for :data:`TICKET_SECONDS`."""
    issued = now or utcnow()
    claims = {"aud": TICKET_AUDIENCE, "sub": event_id, "exp": issued + timedelta(seconds=TICKET_SECONDS)}
    return jwt.encode(claims, secret, algorithm="HS256")


def check_ticket(secret: str, event_id: str, ticket: str) -> None:
    """Raise :class:`InvalidTicket` unless ``ticket`` is a live ticket for ``event_id``."""
    try:
        claims = jwt.decode(ticket, secret, algorithms=["HS256"], audience=TICKET_AUDIENCE)
    except jwt.PyJWTError:
        raise InvalidTicket from None
    if claims.get("sub") != event_id:
        raise InvalidTicket


def _name(folder: str, received_at: datetime, slot_id: str, job_id: str, mime: str | None) -> str:
    return f"{folder}/{received_at:%Y%m%d-%H%M%S}_{slot_id}_{job_id[:12]}.{EXTENSIONS.get(mime or '', 'bin')}"


class _Rows:
    """The CSV's rows gathered while the files stream (booth fields and query values vary by
    booth profile: their columns are known at the end)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []
        self.fields: dict[str, None] = {}
        self.queries: dict[str, None] = {}

    def add(self, row: dict[str, str], fields: dict, query: dict[str, str]) -> None:
        for key, value in fields.items():
            self.fields.setdefault(key)
            row[f"field:{key}"] = "" if value is None else str(value)
        for key, value in query.items():
            self.queries.setdefault(key)
            row[f"query:{key}"] = value
        self.rows.append(row)

    def csv(self) -> bytes:
        """The CSV text, UTF-8 with a byte-order mark."""
        columns = FIXED_COLUMNS + [f"field:{k}" for k in self.fields] + [f"query:{k}" for k in self.queries]
        out = io.StringIO()
        out.write(BOM)
        writer = csv.DictWriter(out, columns, restval="", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue().encode("utf-8")


class _Stopped(Exception):
    """The client went away: the thread building the ZIP stops."""


class _Bridge:
    """Calls from the thread that builds the ZIP into the event loop (the database, the S3
    store), and the ZIP's pieces back to the loop through a queue of :data:`QUEUE` pieces."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(QUEUE)
        self.stop = threading.Event()

    def call(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the loop and wait for its result (raised :class:`_Stopped` once stopped)."""
        future = asyncio.run_coroutine_threadsafe(work, self.loop)
        while True:
            try:
                return future.result(timeout=1)
            except concurrent.futures.TimeoutError:
                if self.stop.is_set():
                    future.cancel()
                    raise _Stopped from None

    def chunks(self, stream: AsyncIterator[bytes]) -> Iterator[bytes]:
        """An async stream of the store read from this thread, a chunk at a time."""
        while True:
            try:
                yield self.call(anext(stream))  # type: ignore[arg-type]
            except StopAsyncIteration:
                return

    def send(self, item: bytes | BaseException | None) -> None:
        self.call(self.queue.put(item))


def _read_file(path: Path) -> Iterator[bytes]:
    """A folder file a piece at a time."""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _prefetch(path: Path | None) -> None:
    """Ask the disk for a folder file that is read soon (``posix_fadvise`` WILLNEED where the
    system has it): the disk works while the file before it is zipped and sent."""
    if path is None or not hasattr(os, "posix_fadvise"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(fd)


def _members(bridge: _Bridge, db: Database, store: MediaStore, event_id: str, base: str, originals: bool,
             counts: dict) -> Iterator[tuple]:  # fmt: skip
    """The ZIP's members, in the thread building it: each kept file of each photo, then
    ``photos.csv``; the next :data:`PREFETCH` folder files are asked of the disk ahead."""
    from stream_zip import ZIP_AUTO

    rows, after = _Rows(), None
    while True:
        page = bridge.call(_page(db, event_id, after))
        files: list[tuple[str, datetime, str, StoredObject]] = []  # (ZIP name, time, store path, stat)
        for job in page:
            (job_id, received_at, slot_id, status, reason, fallback, late_state, fields, query_string,
             input_path, input_mime, result_path, result_mime, purged_at, hidden_at) = job  # fmt: skip
            names = {"result_file": "", "original_file": ""}
            wanted = [("result_file", "results", result_path, result_mime)]
            if originals:
                wanted.append(("original_file", "originals", input_path, input_mime))
            for column, folder, path, mime in wanted:
                if not path or purged_at is not None:
                    continue
                try:
                    stored = bridge.call(store.stat(path))
                except OSError:
                    stored = None
                if stored is None:
                    continue  # expired or deleted on a guest's request: the row says so (no file name)
                names[column] = _name(folder, received_at, slot_id, job_id, mime)
                files.append((names[column], received_at, path, stored))
            query = {k: v[0] for k, v in parse_qs(query_string or "").items()}
            row = {
                "job_id": job_id,
                "received_at": received_at.isoformat(),
                "slot_id": slot_id,
                "status": status,
                "failure_reason": reason or "",
                "fallback": fallback or "",
                "late_state": late_state or "",
                "hidden": "yes" if hidden_at else "",
                "take_home_url": take_home_url(base, job_id),
                **names,
            }
            rows.add(row, fields or {}, query)
            counts["photos"] += 1
        for ahead in files[:PREFETCH]:
            _prefetch(ahead[3].path)
        for index, (name, modified, path, stored) in enumerate(files):
            if index + PREFETCH < len(files):
                _prefetch(files[index + PREFETCH][3].path)
            counts["files"] += 1
            counts["bytes"] += stored.size
            content = _read_file(stored.path) if stored.path else bridge.chunks(store.stream(path))
            yield name, modified, FILE_MODE, ZIP_AUTO(stored.size, level=0), content
        if len(page) < PAGE:
            break
        after = (page[-1][1], page[-1][0])
    table = rows.csv()
    yield "photos.csv", utcnow(), FILE_MODE, ZIP_AUTO(len(table), level=6), (table,)


async def _page(db: Database, event_id: str, after: tuple[datetime, str] | None) -> list[tuple]:
    async with db.transaction() as session:
        return await repository.photos_page(session, event_id, after, PAGE)


async def zip_stream(
    db: Database, store: MediaStore, event_id: str, base: str, originals: bool
) -> AsyncIterator[bytes]:
    """The export ZIP of ``event_id`` in pieces of :data:`CHUNK` bytes (links built on ``base``).

    The ZIP is built by ``stream-zip``'s synchronous writer in one thread of its own (CRC-32 and
    the copying off the event loop; its async wrapper costs a thread hop per piece, measured at a
    quarter of the speed); folder files are read there directly, the database and S3 objects
    through the loop. At most :data:`QUEUE` pieces wait for the client. A file that cannot be
    read midway ends the stream early (the ZIP is then incomplete and the client sees a short
    download, never a wrong file); a client that goes away stops the thread."""
    from stream_zip import stream_zip  # imported on the first export: memory no other request needs

    counts = {"photos": 0, "files": 0, "bytes": 0}
    bridge = _Bridge(asyncio.get_running_loop())

    def build() -> None:
        try:
            for piece in stream_zip(_members(bridge, db, store, event_id, base, originals, counts), chunk_size=CHUNK):
                bridge.send(piece)
            bridge.send(None)
        except _Stopped:
            return
        except BaseException as exc:  # handed to the loop, raised there
            with contextlib.suppress(_Stopped):
                bridge.send(exc)

    thread = threading.Thread(target=build, name=f"export-{event_id}", daemon=True)
    thread.start()
    try:
        while (item := await bridge.queue.get()) is not None:
            if isinstance(item, BaseException):
                log.error("export.failed", event_id=event_id, error=repr(item))
                raise item
            yield item
        log.info("export.done", event_id=event_id, **counts)
    finally:
        bridge.stop.set()


def file_name(event_name: str, at: datetime) -> str:
    """The download's file name: the event's name in ASCII letters, digits and dashes, and the date."""
    safe = "".join(c if c.isascii() and c.isalnum() else "-" for c in event_name).strip("-")[:60] or "event"
    return f"{safe}-{at:%Y%m%d}.zip"
