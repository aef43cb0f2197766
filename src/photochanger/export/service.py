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
in the default thread pool a chunk at a time (CRC-32 off the event loop), files are read from
the media store (folder or S3) a chunk at a time, and the rows of the event are read in keyset
pages of :data:`PAGE` — so the server's memory does not grow with the event's size.

A download from the browser carries a short-lived *ticket* instead of the admin's bearer token
(:func:`issue_ticket`): a JWT (HS256, the server's JWT secret) with ``aud`` ``export`` and the
event's id, valid :data:`TICKET_SECONDS`.
"""

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from urllib.parse import parse_qs

import jwt
import structlog
from stream_zip import ZIP_AUTO, async_stream_zip

from photochanger.db import Database, utcnow
from photochanger.export import repository
from photochanger.storage import MediaStore
from photochanger.urls import take_home_url

log = structlog.get_logger("photochanger.export")
PAGE = 500  # rows read per query
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


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _members(db: Database, store: MediaStore, event_id: str, base: str, originals: bool, counts: dict):
    """The ZIP's members: each kept file of each photo, then ``photos.csv``."""
    rows, after = _Rows(), None
    while True:
        async with db.transaction() as session:
            page = await repository.photos_page(session, event_id, after, PAGE)
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
                    stored = await store.stat(path)
                except OSError:
                    stored = None
                if stored is None:
                    continue  # expired or deleted on a guest's request: the row says so (no file name)
                name = _name(folder, received_at, slot_id, job_id, mime)
                names[column] = name
                counts["files"] += 1
                counts["bytes"] += stored.size
                yield name, received_at, FILE_MODE, ZIP_AUTO(stored.size, level=0), store.stream(path)
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
        if len(page) < PAGE:
            break
        after = (page[-1][1], page[-1][0])
    table = rows.csv()
    yield "photos.csv", utcnow(), FILE_MODE, ZIP_AUTO(len(table), level=6), _once(table)


async def zip_stream(
    db: Database, store: MediaStore, event_id: str, base: str, originals: bool
) -> AsyncIterator[bytes]:
    """The export ZIP of ``event_id`` in chunks of up to 64 KiB (links built on ``base``). A file
    that cannot be read midway ends the stream early (the ZIP is then incomplete and the client
    sees a short download, never a wrong file)."""
    counts = {"photos": 0, "files": 0, "bytes": 0}
    async for chunk in async_stream_zip(_members(db, store, event_id, base, originals, counts)):
        yield chunk
    log.info("export.done", event_id=event_id, **counts)


def file_name(event_name: str, at: datetime) -> str:
    """The download's file name: the event's name in ASCII letters, digits and dashes, and the date."""
    safe = "".join(c if c.isascii() and c.isalnum() else "-" for c in event_name).strip("-")[:60] or "event"
    return f"{safe}-{at:%Y%m%d}.zip"
