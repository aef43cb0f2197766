"""ORM rows for jobs and their provider attempts."""

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.db import Base, UtcDateTime


class Job(Base):
    """One ingest (or test run) that reached a slot.

    ``status``: ``pending`` → ``done`` | ``failed`` | ``timeout``; ``interrupted`` when the process
    died before finishing. Paths are relative to MEDIA_ROOT. Times are UTC; ``*_ms`` milliseconds.

    Late delivery (a slot's ``late_delivery_minutes``): when the booth's deadline passed without an
    AI answer, ``late_state`` is ``continuing`` while the job goes on under ``late_deadline_at``,
    held by the process ``late_owner`` until ``late_lease_until`` (renewed while it runs; another
    process takes it over once it lapses), then ``delivered`` (the AI photo replaced the result;
    the booth's answer stays as ``booth_result_path``, ``status`` becomes ``done``), ``failed``
    (``late_failure_reason``) or ``cancelled`` by an admin.

    ``event_id``: the event live for the slot when the photo arrived (None: no event; fixed at
    arrival, so later edits of the event never move photos).
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_slot_received", "slot_id", "received_at"),
        Index("ix_jobs_status_deadline", "status", "deadline_at"),
        Index("ix_jobs_expires", "result_expires_at"),
        Index("ix_jobs_received", "received_at"),
        Index("ix_jobs_late", "late_state", "late_lease_until"),
        Index("ix_jobs_event", "event_id", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot_id: Mapped[str] = mapped_column(ForeignKey("slots.id"))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(String(40))
    failure_detail: Mapped[str | None] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)
    provider: Mapped[str | None] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    route_index: Mapped[int | None] = mapped_column(Integer)
    fallback: Mapped[str | None] = mapped_column(String(16))
    cost_usd: Mapped[float | None] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    provider_ms: Mapped[int | None] = mapped_column(Integer)
    total_ms: Mapped[int | None] = mapped_column(Integer)
    queue_ms: Mapped[int | None] = mapped_column(Integer)
    prompt: Mapped[str | None] = mapped_column(Text)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    client_fields: Mapped[dict] = mapped_column(JSON, default=dict)
    client_headers: Mapped[dict | None] = mapped_column(JSON)
    query_string: Mapped[str | None] = mapped_column(Text)
    input_path: Mapped[str | None] = mapped_column(String(255))
    input_bytes: Mapped[int | None] = mapped_column(Integer)
    input_mime: Mapped[str | None] = mapped_column(String(32))
    input_width: Mapped[int | None] = mapped_column(Integer)
    input_height: Mapped[int | None] = mapped_column(Integer)
    input_sha256: Mapped[str | None] = mapped_column(String(64))
    result_path: Mapped[str | None] = mapped_column(String(255))
    result_mime: Mapped[str | None] = mapped_column(String(32))
    result_bytes: Mapped[int | None] = mapped_column(Integer)
    result_width: Mapped[int | None] = mapped_column(Integer)
    result_height: Mapped[int | None] = mapped_column(Integer)
    result_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    media_purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # hidden from guests by an admin
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # approved for a gallery shared with approval
    late_state: Mapped[str | None] = mapped_column(String(16))  # continuing | delivered | failed | cancelled
    late_deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    late_lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    late_owner: Mapped[str | None] = mapped_column(String(64))
    late_finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    late_failure_reason: Mapped[str | None] = mapped_column(String(40))
    booth_result_path: Mapped[str | None] = mapped_column(String(255))  # the booth's answer once a late one replaced it
    event_id: Mapped[str | None] = mapped_column(String(32))  # the event live for the slot when it arrived


class JobAttempt(Base):
    """One provider call of a job: ``outcome`` ``success`` | ``failed`` | ``timeout`` |
    ``cancelled`` (lost a hedge) | ``skipped`` (circuit open, no time) | ``in_flight`` (written
    before a late attempt's call) | ``interrupted`` (its process died during the call). ``route_key`` is
    ``provider:model``; successful rows are the latency history of that route."""

    __tablename__ = "job_attempts"
    __table_args__ = (Index("ix_job_attempts_route_key_started", "route_key", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(64))
    route_index: Mapped[int] = mapped_column(Integer, default=0)
    route_key: Mapped[str | None] = mapped_column(String(96))
    outcome: Mapped[str] = mapped_column(String(16))
    failure_class: Mapped[str | None] = mapped_column(String(24))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    cost_usd: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    latency_ms: Mapped[int] = mapped_column(Integer)
    faces_expected: Mapped[int | None] = mapped_column(Integer)
    faces_found: Mapped[int | None] = mapped_column(Integer)
