"""Attempts over a slot's routes under one deadline.

Rule (``../shared/provider-protocols.md`` §4): each attempt gets ``min(remaining − margin −
reserve, per-attempt limit)``, where ``reserve`` keeps room for the fastest later route; a route
is tried only if its typical latency still fits. Per failure class:

* retryable (NO_IMAGE, text-only, 5xx, reset): retry the route after a 1 s back-off while it fits;
  with later routes, at most 3 tries, then move on;
* rate limited: retry if the server's hint fits, else move on (or fail fast with 503);
* refused key: set the key aside and retry with the next key, else move on;
* timeout, content block, unavailable, configuration error: move to the next route.

Routes in cooldown are skipped; if every route is cooling down the least recently failed one runs.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
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
from photochanger.providers.health import KeyRing, RouteHealth, is_key_failure

Publisher = Callable[[InputImage], Awaitable[str]]
RESPONSE_MARGIN_SECONDS = 1.0  # kept back from the deadline to convert, store and send the answer
RETRY_BACKOFF_SECONDS = 1.0
RETRY_HEADROOM_SECONDS = 2.0
TRIES_BEFORE_FALLBACK = 3


@dataclass(frozen=True)
class Route:
    """A way to make the image: provider, validated settings, prompt. ``index`` 0 is the primary."""

    index: int
    provider: Provider
    settings: BaseModel
    prompt: str

    @property
    def key(self) -> str:
        """``provider:model``, the unit of cooldown."""
        return f"{self.provider.name}:{self.provider.model_name(self.settings) or '-'}"

    @property
    def typical(self) -> float:
        """Expected seconds of one attempt."""
        return self.provider.typical_latency(self.settings)

    @property
    def attempt_limit(self) -> float | None:
        """The per-attempt cap of the settings, if any (seconds)."""
        return getattr(self.settings, "attempt_timeout_seconds", None)


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt (or a skipped route) as recorded on the job; ``latency_ms`` in milliseconds."""

    route_index: int
    provider: str
    model: str | None
    outcome: str  # success | failed | timeout | skipped
    failure_class: str | None
    failure_code: str | None
    detail: str | None
    request_id: str | None
    cost_usd: float | None
    started_at: datetime
    latency_ms: int


class RunFailed(Exception):
    """Every route failed or no attempt fits any more; ``failure`` is the last one."""

    def __init__(self, failure: ProviderFailure, attempts: list[AttemptRecord]) -> None:
        super().__init__(str(failure))
        self.failure = failure
        self.attempts = attempts


@dataclass(frozen=True)
class RunResult:
    """The image, the route that made it, every attempt, and the time spent in attempts (ms)."""

    image: ProviderImage
    route: Route
    attempts: list[AttemptRecord]
    provider_ms: int


class _Run:
    def __init__(
        self,
        photo: InputImage,
        templates: Sequence[InputImage],
        deadline: Deadline,
        health: RouteHealth,
        keyring: KeyRing,
        keys: Callable[[str], list[str]],
        publish: Publisher | None,
    ) -> None:
        self.photo, self.templates, self.deadline = photo, templates, deadline
        self.health, self.keyring, self.keys, self.publish = health, keyring, keys, publish
        self.attempts: list[AttemptRecord] = []
        self.spent = 0.0

    def skip(self, route: Route, code: str, detail: str) -> None:
        self.attempts.append(
            AttemptRecord(
                route.index,
                route.provider.name,
                route.provider.model_name(route.settings),
                "skipped",
                None,
                code,
                detail,
                None,
                None,
                utcnow(),
                0,
            )
        )

    async def attempt(self, route: Route, budget: float, api_key: str | None) -> ProviderImage | ProviderFailure:
        started_at, start = utcnow(), time.monotonic()
        request = ProviderRequest(
            self.photo, self.templates, route.prompt, route.settings, budget, api_key, self.publish
        )
        try:
            async with asyncio.timeout(budget):
                outcome: ProviderImage | ProviderFailure = await route.provider.generate(request)
        except TimeoutError:
            outcome = ProviderFailure(FailureKind.TIMEOUT, "timeout", f"no answer within {budget:.1f} s")
        except ProviderFailure as exc:
            outcome = exc
        elapsed = time.monotonic() - start
        self.spent += elapsed
        model = route.provider.model_name(route.settings)
        if isinstance(outcome, ProviderImage):
            label, record = "success", (None, None, None, outcome.request_id, outcome.cost_usd)
            model = outcome.model or model
        else:
            label = "timeout" if outcome.kind is FailureKind.TIMEOUT else "failed"
            record = (str(outcome.kind), outcome.code, outcome.detail[:1000] or None, outcome.request_id, None)
        PROVIDER_ATTEMPT_SECONDS.labels(route.provider.name, label).observe(elapsed)
        self.attempts.append(
            AttemptRecord(route.index, route.provider.name, model, label, *record, started_at, int(elapsed * 1000))
        )
        self.health.record(route.key, None if isinstance(outcome, ProviderImage) else outcome)
        return outcome

    async def run_route(self, route: Route, reserve: float, has_later: bool) -> ProviderImage | ProviderFailure:
        """Attempts on one route until success or a reason to move on; returns the last outcome."""
        tries = 0
        keys = self.keys(route.provider.name)
        while True:
            budget = self.deadline.remaining() - RESPONSE_MARGIN_SECONDS - reserve
            if route.attempt_limit:
                budget = min(budget, route.attempt_limit)
            if budget <= 0:
                return ProviderFailure(FailureKind.TIMEOUT, "deadline", "no time left for an attempt")
            api_key = self.keyring.pick(keys)
            outcome = await self.attempt(route, budget, api_key)
            if isinstance(outcome, ProviderImage):
                return outcome
            if is_key_failure(outcome) and api_key:
                self.keyring.set_aside(api_key)
                if self.keyring.usable(keys):
                    continue
                return outcome
            tries += 1
            wait = _retry_wait(outcome)
            moving_on = has_later and (outcome.kind is FailureKind.TIMEOUT or tries >= TRIES_BEFORE_FALLBACK)
            if wait is None or moving_on:
                return outcome
            needed = wait + route.typical + RETRY_HEADROOM_SECONDS + RESPONSE_MARGIN_SECONDS + reserve
            if self.deadline.remaining() < needed:
                if outcome.kind is FailureKind.RATE_LIMITED:
                    return ProviderFailure(
                        FailureKind.UNAVAILABLE,
                        outcome.code,
                        f"rate limited; retry hint {wait:.0f} s does not fit the deadline",
                    )
                return outcome
            await asyncio.sleep(wait)


async def run_routes(
    routes: Sequence[Route],
    photo: InputImage,
    templates: Sequence[InputImage],
    deadline: Deadline,
    *,
    health: RouteHealth,
    keyring: KeyRing,
    keys: Callable[[str], list[str]],
    publish: Publisher | None = None,
) -> RunResult:
    """Try ``routes`` in order (see module docstring). Raises :class:`RunFailed` with the last failure."""
    run = _Run(photo, templates, deadline, health, keyring, keys, publish)
    candidates = [r for r in routes if not health.cooling(r.key)]
    if not candidates:  # never refuse: try the route that failed longest ago
        candidates = [min(routes, key=lambda r: health.failed_at(r.key))]
    for route in routes:
        if route not in candidates:
            run.skip(route, "cooling_down", "route is cooling down after repeated failures")
    last: ProviderFailure | None = None
    for position, route in enumerate(candidates):
        later = candidates[position + 1 :]
        reserve = min((r.typical for r in later), default=-RETRY_HEADROOM_SECONDS) + RETRY_HEADROOM_SECONDS
        if run.attempts and deadline.remaining() < route.typical + RESPONSE_MARGIN_SECONDS + reserve:
            run.skip(route, "does_not_fit", f"typical {route.typical:.0f} s no longer fits the deadline")
            continue
        outcome = await run.run_route(route, reserve, bool(later))
        if isinstance(outcome, ProviderImage):
            return RunResult(outcome, route, run.attempts, int(run.spent * 1000))
        last = outcome
    last = last or ProviderFailure(FailureKind.TIMEOUT, "deadline", "no route fits the time left")
    raise RunFailed(last, run.attempts)


def _retry_wait(failure: ProviderFailure) -> float | None:
    """Seconds to wait before retrying the same route, or None to move on."""
    if failure.kind is FailureKind.RETRYABLE:
        return RETRY_BACKOFF_SECONDS
    if failure.kind is FailureKind.RATE_LIMITED:
        return max(failure.retry_after or RETRY_BACKOFF_SECONDS, RETRY_BACKOFF_SECONDS)
    if failure.kind is FailureKind.TIMEOUT and failure.code == "timeout":
        return 0.0  # only an attempt cap leaves room for another; the fit check decides
    return None
