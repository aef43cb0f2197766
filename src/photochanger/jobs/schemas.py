"""Job shapes for the admin API."""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

JOB_ID = re.compile(r"^[0-9a-f]{32}$")
JobStatus = Literal["pending", "done", "failed", "timeout", "interrupted"]
JobSource = Literal["ingest", "ui_test", "rerun"]
LateState = Literal["continuing", "delivered", "failed", "cancelled"]


class AttemptRecord(BaseModel):
    """One attempt (or a skipped route) as recorded on the job; ``latency_ms`` in milliseconds.
    The one definition of an attempt: :class:`AttemptView` (the API) adds its number, and the
    ``job_attempts`` table (:class:`photochanger.jobs.models.JobAttempt`) has these columns (a test
    holds them equal). Built with keywords; what an outcome lacks stays None."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    route_index: int = Field(description="0 = primary route, 1… = fallbacks")
    route_key: str | None = Field(default=None, description="provider:model")
    provider: str
    model: str | None
    outcome: str = Field(
        description="success, failed, timeout, cancelled (lost a hedge), skipped, in_flight (a late attempt "
        "under way) or interrupted (its server process stopped during the call)"
    )
    failure_class: str | None = None
    failure_code: str | None = None
    detail: str | None = None
    request_id: str | None = None
    cost_usd: float | None = None
    started_at: datetime
    latency_ms: int
    faces_expected: int | None = Field(default=None, description="faces in the photo (people check)")
    faces_found: int | None = Field(default=None, description="faces in this attempt's answer (people check)")


@dataclass(frozen=True)
class OriginalRecord:
    """The stored original of a job: media path, sniffed (else declared) MIME type, size in bytes,
    SHA-256 hex, the booth's text fields, and when the job's media expires (UTC)."""

    path: str
    mime: str | None
    size_bytes: int
    sha256: str | None
    client_fields: dict
    expires_at: datetime


@dataclass(frozen=True)
class ResultRecord:
    """The stored result: media path, MIME type, size in bytes, width and height in pixels."""

    path: str
    mime: str
    size_bytes: int
    width: int
    height: int


@dataclass(frozen=True)
class JobEnd:
    """How a job ended, written once with its attempts. ``status``: done, failed or timeout;
    ``failure_reason``/``failure_detail`` also on a ``done`` job answered with the original;
    times in milliseconds; ``cost_usd`` the estimated total."""

    status: str
    http_status: int
    failure_reason: str | None = None
    failure_detail: str | None = None
    provider: str | None = None
    model: str | None = None
    route_index: int | None = None
    fallback: str | None = None
    provider_ms: int | None = None
    queue_ms: int | None = None
    total_ms: int | None = None
    cost_usd: float | None = None
    client_fields: dict | None = None
    prompt: str | None = None
    attempts: Sequence[AttemptRecord] = field(default_factory=tuple)
    result: ResultRecord | None = None
    input_size: tuple[int, int] | None = None  # the original's width × height in pixels, once decoded
    late_deadline_at: datetime | None = None  # set: the AI photo is still being made until then (UTC)
    late_lease_seconds: float = 30.0  # this process's lease of the late work (Config.late_lease_seconds)
    webhook: dict | None = None  # a photo webhook delivery row, written with the end (webhooks.service)
    spend: Sequence[tuple[str, float, float]] = ()  # (scope, reserved, spent) settled with the end (spend.service)


@dataclass(frozen=True)
class LateEnd:
    """How a job's late work ended: ``state`` ``delivered`` (``result`` is the AI photo, which
    replaces the booth's answer on the take-home page) or ``failed`` (``failure_reason``); the
    job's whole attempt history; the route that made it; times in milliseconds."""

    state: Literal["delivered", "failed"]
    attempts: Sequence[AttemptRecord]
    failure_reason: str | None = None
    result: ResultRecord | None = None
    provider: str | None = None
    model: str | None = None
    route_index: int | None = None
    prompt: str | None = None
    provider_ms: int | None = None
    cost_usd: float | None = None
    webhook: dict | None = None  # a photo webhook delivery row, written with the end (webhooks.service)
    spend: Sequence[tuple[str, float, float]] = ()  # (scope, reserved, spent) settled with the end (spend.service)


class AttemptView(AttemptRecord):
    """One provider attempt as the API shows it: an :class:`AttemptRecord` and its number."""

    number: int


class JobSummary(BaseModel):
    """A row of the jobs list."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    slot_id: str
    source: str
    status: str
    failure_reason: str | None
    http_status: int | None
    provider: str | None
    model: str | None
    attempts: int
    received_at: datetime
    total_ms: int | None
    result_url: str | None = None
    thumbnail_url: str | None = None
    hidden_at: datetime | None = Field(default=None, description="when an admin hid the result from guests")
    approved_at: datetime | None = Field(
        default=None, description="when an admin approved it (gallery shared with approval)"
    )
    media_purged_at: datetime | None = Field(default=None, description="when the photo's files were deleted")
    late_state: str | None = Field(
        default=None, description="late delivery: continuing, delivered, failed or cancelled (None: not late)"
    )
    event_id: str | None = Field(default=None, description="the event live for the slot when the photo arrived")


class JobDetail(JobSummary):
    """Everything recorded about a job (the ingest password is never stored)."""

    failure_detail: str | None
    route_index: int | None
    fallback: str | None = Field(description="route: a fallback made it; original: the photo was returned")
    cost_usd: float | None
    deadline_at: datetime
    finished_at: datetime | None
    provider_ms: int | None
    queue_ms: int | None = Field(default=None, description="time waiting for an in-flight place, ms")
    prompt: str | None = Field(default=None, description="the prompt as sent, placeholders filled")
    client_ip: str | None
    client_fields: dict
    client_headers: dict | None
    query_string: str | None
    input_bytes: int | None
    input_mime: str | None
    input_width: int | None
    input_height: int | None
    input_sha256: str | None
    late_deadline_at: datetime | None = Field(default=None, description="until when the AI photo may still come")
    late_finished_at: datetime | None = None
    late_failure_reason: str | None = None
    booth_result_url: str | None = Field(
        default=None, description="the answer the booth got, when a late AI photo replaced it as the result"
    )
    result_mime: str | None
    result_bytes: int | None
    result_width: int | None
    result_height: int | None
    result_expires_at: datetime | None
    original_url: str | None = None
    attempt_log: list[AttemptView] = Field(default_factory=list)


class LateSummary(BaseModel):
    """Jobs whose AI photo is still being made after their booth's deadline."""

    continuing: int
    oldest_received_at: datetime | None = None


class JobPage(BaseModel):
    """One page of jobs, newest first; pass ``next_cursor`` back as ``cursor`` for the next."""

    items: list[JobSummary]
    next_cursor: str | None


class IngestRequestView(BaseModel):
    """A recent booth request as received: what the booth is actually sending."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    slot_id: str
    received_at: datetime
    client_ip: str | None
    query_string: str | None
    client_fields: dict
    client_headers: dict | None
    input_bytes: int | None
    input_mime: str | None
    status: str
    failure_reason: str | None
    http_status: int | None


class RefusalView(BaseModel):
    """Booth requests of one address refused for one reason before their password checked out:
    how many, the first and the last (UTC), and the slot of the last."""

    model_config = ConfigDict(from_attributes=True)

    client_ip: str
    failure_reason: str
    http_status: int
    count: int
    first_at: datetime
    last_at: datetime
    slot_id: str | None


class RunResult(BaseModel):
    """Answer of a test run or rerun that produced an image."""

    status: str = "done"
    job_id: str
    result_url: str
    duration_ms: int
    attempts: list[AttemptView]
