"""Attempts under one deadline: retry what is worth retrying while time remains.

Rule (``../shared/provider-protocols.md`` §4): each attempt gets ``min(remaining − margin,
per-attempt limit)``; a retry starts only if ``remaining ≥ typical latency + 2 s`` after its
back-off; a server retry hint that does not fit fails fast; content blocks are never retried.
"""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from photochanger.db import utcnow
from photochanger.deadline import Deadline
from photochanger.metrics import PROVIDER_ATTEMPT_SECONDS
from photochanger.providers.base import (
    FailureKind,
    InputImage,
    Provider,
    ProviderFailure,
    ProviderImage,
    ProviderRequest,
)

RESPONSE_MARGIN_SECONDS = 1.0  # kept back from the deadline to convert, store and send the answer
RETRY_BACKOFF_SECONDS = 1.0
RETRY_HEADROOM_SECONDS = 2.0


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt as recorded on the job; ``latency_ms`` in milliseconds."""

    provider: str
    model: str | None
    outcome: str  # success | failed | timeout
    failure_code: str | None
    detail: str | None
    started_at: datetime
    latency_ms: int


class RunFailed(Exception):
    """Every attempt failed, or the deadline left no room for another; ``failure`` is the last."""

    def __init__(self, failure: ProviderFailure, attempts: list[AttemptRecord]) -> None:
        super().__init__(str(failure))
        self.failure = failure
        self.attempts = attempts


@dataclass(frozen=True)
class RunResult:
    """The image and every attempt; ``provider_ms`` is the time spent in attempts."""

    image: ProviderImage
    attempts: list[AttemptRecord]
    provider_ms: int


async def run_with_deadline(
    provider: Provider,
    settings: BaseModel,
    photo: InputImage,
    templates: Sequence[InputImage],
    prompt: str,
    deadline: Deadline,
    attempt_limit: float | None = None,
    api_key: str | None = None,
) -> RunResult:
    """Call ``provider`` until it returns an image or a retry no longer fits ``deadline``.

    Raises :class:`RunFailed` carrying the last classified failure.
    """
    attempts: list[AttemptRecord] = []
    model = provider.model_name(settings)
    spent = 0.0
    while True:
        budget = deadline.remaining() - RESPONSE_MARGIN_SECONDS
        if attempt_limit:
            budget = min(budget, attempt_limit)
        if budget <= 0:
            raise RunFailed(ProviderFailure(FailureKind.TIMEOUT, "deadline", "no time left for an attempt"), attempts)
        started_at, start = utcnow(), time.monotonic()
        try:
            async with asyncio.timeout(budget):
                image = await provider.generate(ProviderRequest(photo, templates, prompt, settings, budget, api_key))
        except TimeoutError:
            failure = ProviderFailure(FailureKind.TIMEOUT, "timeout", f"no answer within {budget:.1f} s")
        except ProviderFailure as exc:
            failure = exc
        else:
            elapsed = time.monotonic() - start
            spent += elapsed
            PROVIDER_ATTEMPT_SECONDS.labels(provider.name, "success").observe(elapsed)
            attempts.append(
                AttemptRecord(
                    provider.name, image.model or model, "success", None, None, started_at, int(elapsed * 1000)
                )
            )
            return RunResult(image, attempts, int(spent * 1000))
        elapsed = time.monotonic() - start
        spent += elapsed
        outcome = "timeout" if failure.kind is FailureKind.TIMEOUT else "failed"
        PROVIDER_ATTEMPT_SECONDS.labels(provider.name, outcome).observe(elapsed)
        attempts.append(
            AttemptRecord(
                provider.name,
                model,
                outcome,
                failure.code,
                failure.detail[:1000] or None,
                started_at,
                int(elapsed * 1000),
            )
        )
        wait = _retry_wait(failure)
        if wait is None:
            raise RunFailed(failure, attempts)
        needed = wait + provider.typical_latency(settings) + RETRY_HEADROOM_SECONDS + RESPONSE_MARGIN_SECONDS
        if deadline.remaining() < needed:
            if failure.kind is FailureKind.RATE_LIMITED:
                failure = ProviderFailure(
                    FailureKind.UNAVAILABLE,
                    failure.code,
                    f"rate limited; retry hint {wait:.0f} s does not fit the deadline",
                )
            raise RunFailed(failure, attempts)
        await asyncio.sleep(wait)


def _retry_wait(failure: ProviderFailure) -> float | None:
    """Seconds to wait before retrying, or None if this failure is not retried."""
    if failure.kind is FailureKind.RETRYABLE:
        return RETRY_BACKOFF_SECONDS
    if failure.kind is FailureKind.RATE_LIMITED:
        return max(failure.retry_after or RETRY_BACKOFF_SECONDS, RETRY_BACKOFF_SECONDS)
    if failure.kind is FailureKind.TIMEOUT:
        return 0.0  # only an attempt cap can leave room; the fit check decides
    return None
