"""Where the original photo of a job comes from: the three typed sources of the pipeline.

* :class:`BoothUpload` — a booth's ``multipart/form-data`` POST, read as a stream;
* :class:`TestPhoto` — an admin's test run, with optional unsaved slot changes;
* :class:`Rerun` — a past job's stored original, run again with the slot's current configuration.

Each carries its :class:`Origin` (what is recorded on the job about who sent it).
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from photochanger.slots.schemas import SlotUpdate

SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key", "x-goog-api-key"})


@dataclass(frozen=True)
class Origin:
    """Who sent a job: ``source`` (``ingest``, ``ui_test``, ``rerun``), client IP, query string
    and request headers (recorded without secrets, values capped at 300 characters)."""

    source: str
    client_ip: str | None
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def safe_headers(self) -> dict[str, str] | None:
        """At most 40 headers without credentials, or None."""
        if not self.headers:
            return None
        return {k: v[:300] for k, v in list(self.headers.items())[:40] if k.lower() not in SECRET_HEADERS}


@dataclass(frozen=True)
class BoothUpload:
    """A booth's POST: ``content_length`` as declared (bytes, None if absent), ``body`` yields the
    raw bytes as they arrive."""

    slot_id: str
    content_type: str
    content_length: int | None
    body: AsyncIterator[bytes]
    origin: Origin


@dataclass(frozen=True)
class TestPhoto:
    """An admin's test run: the photo's bytes, the unsaved slot ``change`` (None: as saved) and
    sample booth ``fields`` for the prompt's placeholders."""

    slot_id: str
    photo: bytes
    change: SlotUpdate | None
    origin: Origin
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rerun:
    """Run the original of job ``job_id`` again."""

    job_id: str
    origin: Origin


Source = BoothUpload | TestPhoto | Rerun
