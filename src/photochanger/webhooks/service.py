"""The photo webhook: a signed JSON POST to the studio's own systems (CRM, Zapier, Dropbox…) when a
photo is finished (``photo.finished``) and when its AI photo arrives after the booth's deadline
(``photo.late_result``, late delivery).

A delivery is a row written in the same transaction as the job's end, so a restart drops none;
the booth never waits for it: every server process sends due rows in the background
(:func:`deliver_due`), retrying with exponential back-off (5 s doubling to 5 min, ±10 % jitter)
for an hour, then gives up (``failed``). Receivers deduplicate by ``X-PhotoChanger-Delivery``.

**Signature** (the scheme of Stripe's ``Stripe-Signature``, documented in the README):
``X-PhotoChanger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`` over
the exact body bytes; a receiver recomputes it, compares in constant time and refuses a ``t``
older than 5 minutes (replays). The secret is the ``webhook_secret`` setting.

**SSRF**: the target's host must not resolve to a loopback, link-local (cloud metadata),
unspecified, multicast or reserved address unless ``WEBHOOK_ALLOW_LOOPBACK`` is set; redirects are
never followed (a 3xx is a failed attempt).
"""

import asyncio
import hashlib
import hmac
import ipaddress
import json
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
import structlog

from photochanger.clock import Clock
from photochanger.db import Database, utcnow
from photochanger.webhooks import repository
from photochanger.webhooks.models import WebhookDelivery

log = structlog.get_logger("photochanger.webhooks")

RETRY_FOR = timedelta(hours=1)  # a delivery is given up this long after it was made
FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 300.0
SEND_TIMEOUT_SECONDS = 10.0  # a receiver that hangs costs one background sender this long, never a booth
LEASE_SECONDS = 60.0  # a claimed delivery is this process's while it sends it
BATCH = 16  # deliveries sent at once by one process
REPLAY_TOLERANCE_SECONDS = 300
SIGNATURE_HEADER = "X-PhotoChanger-Signature"


class TargetRefused(Exception):
    """The webhook URL's host is (or resolves to) an address a webhook may not reach."""


def sign(secret: str, timestamp: int, body: str) -> str:
    """The ``X-PhotoChanger-Signature`` value of ``body`` at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: str, now: float, tolerance: float = REPLAY_TOLERANCE_SECONDS) -> bool:
    """What a receiver does: True when ``header`` signs ``body`` with ``secret`` and its timestamp
    is within ``tolerance`` seconds of ``now`` (Unix seconds)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(expected, parts.get("v1", ""))


def retry_delay(attempts: int, rng: random.Random) -> float:
    """Seconds before the next try after ``attempts`` failed ones: 5 s doubling to 5 min, ±10 %."""
    base = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1))
    return base * rng.uniform(0.9, 1.1)


def delivery_row(event: str, url: str, payload: dict, now: datetime, job_id: str | None = None) -> dict:
    """A delivery row (column → value) of ``payload`` for ``url``, due at once. The body is the
    compact JSON text with ``event``, ``delivery_id`` and ``sent_at`` added; it is sent and signed
    as is."""
    delivery_id = uuid.uuid4().hex
    body = json.dumps(
        {"event": event, "delivery_id": delivery_id, "created_at": now.isoformat(), **payload},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return {
        "id": delivery_id,
        "event": event,
        "job_id": job_id,
        "url": url,
        "body": body,
        "state": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }


async def check_target(url: str, allow_loopback: bool) -> None:
    """Raise :class:`TargetRefused` when ``url``'s host is or resolves to a loopback, link-local,
    unspecified, multicast or reserved address (unless ``allow_loopback``), or does not resolve."""
    if allow_loopback:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"{host} does not resolve") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_loopback or address.is_link_local or address.is_unspecified or address.is_multicast:
            raise TargetRefused(f"{host} is {address}: a webhook may not reach this machine or its link")
        if address.is_reserved:
            raise TargetRefused(f"{host} is the reserved address {address}")


@dataclass(frozen=True)
class Attempt:
    """One POST: the receiver's HTTP status (None when it was not reached) and what went wrong."""

    status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


async def post(
    client: httpx.AsyncClient, row: WebhookDelivery, secret: str, now: float, allow_loopback: bool
) -> Attempt:
    """Send one delivery (signed at ``now``, Unix seconds); never raises."""
    try:
        await check_target(row.url, allow_loopback)
        response = await client.post(
            row.url,
            content=row.body.encode(),
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(secret, int(now), row.body),
                "X-PhotoChanger-Event": row.event,
                "X-PhotoChanger-Delivery": row.id,
                "User-Agent": "PhotoChanger-Webhook/1",
            },
            timeout=SEND_TIMEOUT_SECONDS,
        )
    except TargetRefused as exc:
        return Attempt(None, f"refused: {exc}"[:200])
    except httpx.HTTPError as exc:
        return Attempt(None, f"{type(exc).__name__}: {exc}"[:200])
    if response.is_redirect:
        return Attempt(response.status_code, "redirects are not followed")
    return Attempt(response.status_code, None if response.is_success else response.text[:120] or None)


async def deliver_due(
    db: Database,
    client: httpx.AsyncClient,
    secret: Callable[[], Awaitable[str | None]],
    clock: Clock,
    allow_loopback: bool,
    rng: random.Random,
) -> int:
    """Send the deliveries due now (at most :data:`BATCH`, claimed for this process) signed with
    ``secret()``, record each outcome and schedule a retry or give up; returns how many were sent.
    With none due it only reads."""
    now = utcnow()
    async with db.transaction() as session:
        if not await repository.any_due(session, now):
            return 0
    key = await secret()
    if not key:
        log.warning("webhook.no_secret")
        return 0
    async with db.transaction(write=True) as session:
        rows = await repository.claim_due(session, now, now + timedelta(seconds=LEASE_SECONDS), BATCH)
    if not rows:
        return 0
    sent_at = clock.now().timestamp()
    results = await asyncio.gather(*(post(client, row, key, sent_at, allow_loopback) for row in rows))
    for row, attempt in zip(rows, results, strict=True):
        await _record(db, row, attempt, rng)
    return len(rows)


async def _record(db: Database, row: WebhookDelivery, attempt: Attempt, rng: random.Random) -> None:
    now = utcnow()
    attempts = row.attempts + 1
    values: dict = {"attempts": attempts, "last_attempt_at": now, "last_status": attempt.status}
    values["last_error"] = attempt.error
    if attempt.delivered:
        values |= {"state": "delivered", "delivered_at": now}
        log.info("webhook.delivered", delivery_id=row.id, webhook_event=row.event, job_id=row.job_id, tries=attempts)
    else:
        later = now + timedelta(seconds=retry_delay(attempts, rng))
        if later - row.created_at > RETRY_FOR:
            values["state"] = "failed"
            log.warning("webhook.given_up", delivery_id=row.id, job_id=row.job_id, tries=attempts, error=attempt.error)
        else:
            values["next_attempt_at"] = later
            log.info("webhook.retry", delivery_id=row.id, status=attempt.status, error=attempt.error, tries=attempts)
    async with db.transaction(write=True) as session:
        await repository.record(session, row.id, values)


async def enqueue(db: Database, rows: list[dict]) -> None:
    """Store delivery rows (due at once)."""
    async with db.transaction(write=True) as session:
        await repository.add(session, rows)


async def recent(db: Database, limit: int = 20) -> list[WebhookDelivery]:
    """The newest deliveries, for the delivery log."""
    async with db.transaction() as session:
        return await repository.recent(session, limit)


async def get(db: Database, delivery_id: str) -> WebhookDelivery | None:
    """One delivery, or None."""
    async with db.transaction() as session:
        return await repository.get(session, delivery_id)


async def send_test(db: Database, url: str, secret: str, clock: Clock, allow_loopback: bool) -> WebhookDelivery:
    """Send one ``webhook.test`` delivery to ``url`` now (no retries) and keep it in the log;
    returns it with its outcome."""
    row = delivery_row("webhook.test", url, {"message": "PhotoChanger test delivery"}, utcnow())
    async with httpx.AsyncClient(follow_redirects=False) as client:
        attempt = await post(client, WebhookDelivery(**row), secret, clock.now().timestamp(), allow_loopback)
    now = utcnow()
    row |= {"attempts": 1, "last_attempt_at": now, "last_status": attempt.status, "last_error": attempt.error}
    row |= {"state": "delivered", "delivered_at": now} if attempt.delivered else {"state": "failed"}
    await enqueue(db, [row])
    return WebhookDelivery(**row)
