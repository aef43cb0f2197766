"""Attempts over a slot's routes under one deadline: retries, fallbacks, hedging, circuits.

For one photo, in order (every rule reads time from the deadline's :class:`~photochanger.clock.Clock`):

1. **Circuits.** Routes whose circuit is open or half-open are skipped (recorded as ``skipped``,
   ``circuit_open``): no guest waits on a route known to be failing. Each route has two: its own
   (``provider:model``, for an outage) and this slot's (``provider:model@slot``, for a prompt of
   this slot that makes the model slow; see :mod:`photochanger.routing.breaker`). If a probe is
   due it is claimed and run in the background with this photo (a *shadow* attempt whose answer
   is discarded; the guest is answered by the next route at once), so an open circuit costs at
   most one provider call per probe interval. If every route is open the request fails at once
   (``unavailable``/``circuit_open``).
2. **Budgets.** An attempt on a route with a later route gets ``min(remaining − margin − reserve,
   attempt_timeout)``: ``reserve`` keeps room for the fastest later route, ``attempt_timeout``
   follows the route's recent latency (:mod:`photochanger.routing.latency`). The last route gets
   everything but the margin.
3. **Retries** by failure class: ``no_image`` and ``people_lost`` at once; ``server_error`` and
   ``unexpected_response`` after a jittered 0.1–0.5 s back-off; ``rate_limited`` after its hint if
   it fits; a refused key or exhausted quota with the next key; content blocks, configuration
   errors and (with a later route) timeouts move on. A route whose circuit opens during the run is
   not tried again. At most ``TRIES_BEFORE_FALLBACK`` tries on a route with a later route,
   ``MAX_TRIES`` on the last one.
4. **Hedging.** When a route's ``hedge_after`` passes without an answer and the next route may be
   hedged to, the next route starts beside it; the first success answers and the other attempt is
   cancelled (recorded as ``cancelled``). A hedge lost this way makes the slot's circuit of the
   slow route half-open at once and probes it in the background: a hung provider costs one guest
   the hedge delay, not one per guest until a threshold; a merely slow answer closes it again.
5. **Every answer is classified.** Any exception from a provider, and an image that
   ``finish`` cannot decode, becomes a failed attempt of class ``unexpected_response``.
"""

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import structlog

from photochanger.clock import Clock
from photochanger.deadline import Deadline
from photochanger.errors import ApiError
from photochanger.jobs.schemas import AttemptRecord
from photochanger.metrics import PROVIDER_ATTEMPT_SECONDS, ROUTE_ATTEMPT_SECONDS
from photochanger.providers.base import (
    FailureKind,
    InputImage,
    Provider,
    ProviderFailure,
    ProviderImage,
    ProviderRequest,
    ProviderSettings,
)
from photochanger.providers.pricing import Prices, reprice
from photochanger.routing.breaker import BreakerState
from photochanger.routing.health import KeyRing, RouteHealth

log = structlog.get_logger("photochanger.routing")

Publisher = Callable[[InputImage], Awaitable[str]]
Finisher = Callable[["Route", ProviderImage], Awaitable["Finished"]]
RESPONSE_MARGIN_SECONDS = 1.0  # kept back from the deadline to store and send the answer
RETRY_HEADROOM_SECONDS = 2.0  # kept for a later route beyond its typical latency
BACKOFF_SECONDS = (0.1, 0.5)  # jittered back-off after a server error or an unexpected answer
TRIES_BEFORE_FALLBACK = 3  # tries on a route before a later route is tried
# a timeout counts as a hang (a full timeout) when the attempt had its whole attempt timeout, or,
# cut shorter by the deadline (or the floor made the timeout longer), at least this many times the
# route's p95 (the attempt timeout's own factor, photochanger.routing.latency.TIMEOUT_FACTOR)
HUNG_AFTER_P95 = 1.5
MAX_TRIES = 8  # tries on the last route (NO_IMAGE is stochastic: worth several quick tries)


@dataclass(frozen=True)
class Route:
    """A way to make the image. ``index`` 0 is the primary. Timing in seconds: ``typical`` (p50),
    ``attempt_timeout`` (used when a later route exists), ``hedge_after`` (None: never start the
    next route beside this one)."""

    index: int
    provider: Provider
    settings: ProviderSettings
    prompt: str
    typical: float
    attempt_timeout: float
    hedge_after: float | None = None
    input_side: int | None = None  # long side (px) of the photo copy this route is sent; None: full size
    scope: str | None = None  # the slot the route serves (its own circuit of the route)
    p95: float | None = None  # seconds: p95 of recent successes (the documented typical without history)
    cost: float | None = None  # US dollars one attempt is expected to cost (None: free or unpriced)

    @property
    def model(self) -> str | None:
        """The model (or method) this route uses."""
        return self.provider.model_name(self.settings)

    @property
    def key(self) -> str:
        """``provider:model``: the unit of outage circuits and latency history."""
        return f"{self.provider.name}:{self.model or '-'}"

    @property
    def slot_key(self) -> str | None:
        """``provider:model@slot-004``: the slot's own circuit of this route (None without a slot)."""
        return f"{self.key}@{self.scope}" if self.scope else None

    @property
    def circuit_keys(self) -> list[str]:
        """Every circuit that must admit guests before one is sent to this route; none for a
        provider without a circuit breaker (``local``: our own CPU)."""
        if not self.provider.circuit_breaker:
            return []
        return [self.key, self.slot_key] if self.slot_key else [self.key]


async def record_outcome(
    health: RouteHealth, route: Route, outcome: ProviderFailure | None, *, full_timeout: bool = False
) -> BreakerState:
    """Apply one attempt's outcome to the route's circuits: a success (``outcome`` None) closes
    both; a full timeout opens the slot's circuit at once and counts towards the route's (which
    opens at once only when another slot also timed out fully); other failures count towards the
    route's circuit only. Returns the state that decides whether this slot's guests may use the
    route next (the slot's when it does not admit guests, else the route's). A provider without a
    circuit breaker (``local``) records nothing."""
    if not route.circuit_keys:
        return BreakerState(route.key)
    if outcome is None:
        state = await health.record(route.key, None)
        if route.slot_key:
            await health.record(route.slot_key, None)
        return state
    outage = outcome.kind.is_outage
    state = await health.record(route.key, outcome, outage=outage, full_timeout=full_timeout, scope=route.scope)
    if route.slot_key and full_timeout:
        mine = await health.record(route.slot_key, outcome, outage=True, full_timeout=True)
        if not mine.admits_guests():
            return mine
    return state


class RunFailed(Exception):
    """Every route failed or no attempt fits any more; ``failure`` is the deciding one."""

    def __init__(self, failure: ProviderFailure, attempts: list[AttemptRecord]) -> None:
        super().__init__(str(failure))
        self.failure = failure
        self.attempts = attempts


@dataclass(frozen=True)
class RunOutcome:
    """The finished output, the provider's image, the route that made it, every attempt, and the
    seconds spent in attempts (``provider_ms`` in milliseconds)."""

    output: Any
    image: ProviderImage
    route: Route
    attempts: list[AttemptRecord]
    provider_ms: int


@dataclass(frozen=True)
class Finished:
    """A usable answer after ``finish``: the output (e.g. the image converted for the booth) and,
    when the people check ran, the faces expected (in the input) and found (in the answer)."""

    output: Any
    faces_expected: int | None = None
    faces_found: int | None = None


@dataclass(frozen=True)
class _Success:
    route: Route
    image: ProviderImage
    finished: Finished

    @property
    def output(self) -> Any:
        return self.finished.output


@dataclass
class RunContext:
    """What one run needs besides its routes: the inputs, the deadline, route health, keys, how to
    finish an answer (decode/convert; raising means the answer is unusable) and the optional
    publisher for providers that fetch inputs by URL. ``photo`` is the copy for the routes whose
    ``input_side`` it was made at; ``photo_for`` makes (and caches) the copy for a route that
    wants another size. ``rng`` draws back-off jitter. ``on_start(route, started_at)`` is awaited
    before each provider call (a late job writes the attempt down first: a process that dies during
    the call leaves it recorded, so no call is ever made twice unrecorded); ``on_record`` sees each
    attempt's record as it is made (skips included), so a caller knows the attempts so far while
    the run goes on."""

    photo: InputImage
    templates: Sequence[InputImage]
    deadline: Deadline
    health: RouteHealth
    keyring: KeyRing
    keys: Callable[[str], list[str]]
    finish: Finisher
    publish: Publisher | None = None
    rng: random.Random = field(default_factory=random.Random)
    on_success: Callable[[Route, float, float | None], None] | None = None
    photo_for: Callable[[Route], Awaitable[InputImage]] | None = None
    on_start: Callable[[Route, datetime], Awaitable[None]] | None = None
    prices: Prices | None = None  # the ``model_prices`` setting: what a call costs, over the list prices
    on_record: Callable[[AttemptRecord], None] | None = None


class _Run:
    def __init__(self, ctx: RunContext, clock: Clock | None = None) -> None:
        self.ctx = ctx
        self.clock = clock or ctx.deadline.clock
        self.attempts: list[AttemptRecord] = []
        self.spent = 0.0

    def remaining(self) -> float:
        return self.ctx.deadline.remaining()

    def add(self, record: AttemptRecord) -> None:
        self.attempts.append(record)
        if self.ctx.on_record is not None:
            self.ctx.on_record(record)

    def skip(self, route: Route, code: str, detail: str) -> None:
        self.add(
            AttemptRecord(
                route_index=route.index,
                route_key=route.key,
                provider=route.provider.name,
                model=route.model,
                outcome="skipped",
                failure_code=code,
                detail=detail,
                started_at=self.clock.now(),
                latency_ms=0,
            )
        )

    async def attempt(self, route: Route, budget: float, api_key: str | None) -> _Success | ProviderFailure:
        """One provider call under ``budget`` seconds, classified whatever happens; recorded."""
        started_at, start = self.clock.now(), self.clock.monotonic()
        ctx = self.ctx
        outcome: _Success | ProviderFailure
        try:
            try:
                async with asyncio.timeout(budget):
                    photo = await ctx.photo_for(route) if ctx.photo_for is not None else ctx.photo
                    if ctx.on_start is not None:
                        await ctx.on_start(route, started_at)
                    request = ProviderRequest(
                        photo, ctx.templates, route.prompt, route.settings, budget, api_key, ctx.publish
                    )
                    image = await route.provider.generate(request)
                if not isinstance(image, ProviderImage) or not image.data:
                    raise ProviderFailure(FailureKind.UNEXPECTED_RESPONSE, "empty_image", "answer without image bytes")
                outcome = _Success(route, image, await ctx.finish(route, image))
            except TimeoutError:
                outcome = ProviderFailure(FailureKind.TIMEOUT, "timeout", f"no answer within {budget:.1f} s")
            except ProviderFailure as exc:
                outcome = exc
            except ApiError as exc:  # our own side failed (no image worker before the deadline): not the provider
                busy = ProviderFailure(FailureKind.UNAVAILABLE, exc.failure_reason, exc.detail)
                self._record(route, busy, api_key, started_at, start)
                raise
            except Exception as exc:  # anything else is an answer we did not expect: never a bare 500
                log.warning("routing.unexpected_response", route=route.key, error=f"{type(exc).__name__}: {exc}"[:300])
                outcome = ProviderFailure(
                    FailureKind.UNEXPECTED_RESPONSE, "unexpected_response", f"{type(exc).__name__}: {exc}"[:500]
                )
        except asyncio.CancelledError:  # lost a hedge (or the request ended): record, then stop
            self._record(route, "cancelled", None, started_at, start)
            raise
        self._record(route, outcome, api_key, started_at, start)
        return outcome

    def _record(self, route: Route, outcome, api_key, started_at: datetime, start: float) -> None:
        elapsed = self.clock.monotonic() - start
        self.spent += elapsed
        model = route.model
        found: dict[str, Any] = {}
        if outcome == "cancelled":
            label = "cancelled"
            found = {"failure_code": "cancelled", "detail": "lost a hedge; stopped"}
        elif isinstance(outcome, _Success):
            image = outcome.image
            label = "success"
            cost = reprice(image.usage, image.cost_usd, self.ctx.prices)
            found = {
                "request_id": image.request_id,
                "cost_usd": cost,
                "faces_expected": outcome.finished.faces_expected,
                "faces_found": outcome.finished.faces_found,
            }
            model = image.model or model
            if self.ctx.on_success:
                self.ctx.on_success(route, elapsed, cost)
        else:
            label = {FailureKind.TIMEOUT: "timeout", FailureKind.BUDGET_EXHAUSTED: "skipped"}.get(
                outcome.kind, "failed"
            )
            found = {
                "failure_class": str(outcome.kind),
                "failure_code": outcome.code,
                "detail": outcome.detail[:1000] or None,
                "request_id": outcome.request_id,
                "faces_expected": outcome.extra.get("faces_expected"),
                "faces_found": outcome.extra.get("faces_found"),
            }
        PROVIDER_ATTEMPT_SECONDS.labels(route.provider.name, label).observe(elapsed)
        ROUTE_ATTEMPT_SECONDS.labels(route.key, label).observe(elapsed)
        self.add(
            AttemptRecord(
                route_index=route.index,
                route_key=route.key,
                provider=route.provider.name,
                model=model,
                outcome=label,
                started_at=started_at,
                latency_ms=int(elapsed * 1000),
                **found,
            )
        )

    async def run_route(self, route: Route, reserve: float, has_later: bool) -> _Success | ProviderFailure:
        """Attempts on one route until success or a reason to move on; returns the last outcome."""
        ctx, tries = self.ctx, 0
        keys = ctx.keys(route.provider.name)
        while True:
            budget = self.remaining() - RESPONSE_MARGIN_SECONDS - reserve
            capped = has_later or (route.attempt_timeout < budget and _has_override(route))
            if capped:
                budget = min(budget, route.attempt_timeout)
            if budget <= 0:
                return ProviderFailure(FailureKind.TIMEOUT, "deadline", "no time left for an attempt")
            api_key = ctx.keyring.pick(keys)
            outcome = await self.attempt(route, budget, api_key)
            if isinstance(outcome, _Success):
                await record_outcome(ctx.health, route, None)
                return outcome
            kind = outcome.kind
            if kind is FailureKind.BUDGET_EXHAUSTED:
                return outcome  # no call was made: nothing about the route's health, next route
            if kind.is_key_failure and api_key:
                ctx.keyring.set_aside(api_key)
                if ctx.keyring.usable(keys):
                    continue  # another key: not a failure of the route
            full_timeout = kind is FailureKind.TIMEOUT and _hung(route, budget)
            state = await record_outcome(ctx.health, route, outcome, full_timeout=full_timeout)
            tries += 1
            wait = self.retry_wait(outcome, capped)
            if (
                wait is None
                or not state.admits_guests()
                or tries >= (TRIES_BEFORE_FALLBACK if has_later else MAX_TRIES)
            ):
                return outcome  # no retry for this class, the route's circuit just opened, or enough tries
            if has_later and kind is FailureKind.TIMEOUT:
                return outcome
            needed = wait + route.typical + RESPONSE_MARGIN_SECONDS + reserve
            if self.remaining() < needed:
                if kind is FailureKind.RATE_LIMITED:
                    return ProviderFailure(
                        FailureKind.UNAVAILABLE,
                        outcome.code,
                        f"rate limited; retry hint {wait:.0f} s does not fit the deadline",
                    )
                return outcome
            if wait:
                await asyncio.sleep(wait)

    def retry_wait(self, failure: ProviderFailure, capped: bool) -> float | None:
        """Seconds to wait before retrying the same route, or None to move on."""
        kind = failure.kind
        if kind in (FailureKind.NO_IMAGE, FailureKind.PEOPLE_LOST):
            return 0.0
        if kind in (FailureKind.SERVER_ERROR, FailureKind.UNEXPECTED_RESPONSE):
            return self.ctx.rng.uniform(*BACKOFF_SECONDS)
        if kind is FailureKind.RATE_LIMITED:
            return max(failure.retry_after or BACKOFF_SECONDS[1], BACKOFF_SECONDS[0])
        if kind is FailureKind.TIMEOUT and failure.code == "timeout" and capped:
            return 0.0  # only a capped attempt leaves room for another; the fit check decides
        return None

    async def hedged(
        self, first: Route, second: Route, first_reserve: float, second_reserve: float, second_has_later: bool
    ) -> tuple[_Success | ProviderFailure, bool]:
        """Run ``first``; if it has not answered after ``first.hedge_after`` seconds, start
        ``second`` beside it. Returns the outcome and whether ``second`` was used."""
        primary = asyncio.create_task(self.run_route(first, first_reserve, True))
        done, _ = await asyncio.wait({primary}, timeout=first.hedge_after)
        if done:
            return primary.result(), False
        if self.remaining() < second.typical + RESPONSE_MARGIN_SECONDS:
            return await primary, False
        log.info("routing.hedge", route=first.key, hedge=second.key, after_s=first.hedge_after)
        backup = asyncio.create_task(self.run_route(second, second_reserve, second_has_later))
        pending: set[asyncio.Task] = {primary, backup}
        last: ProviderFailure | None = None
        try:
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    outcome = task.result()
                    if isinstance(outcome, _Success):
                        if task is backup and primary in pending:
                            await self._suspect(first)
                        return outcome, True
                    if task is backup or last is None:
                        last = outcome
            assert last is not None
            return last, True
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _suspect(self, route: Route) -> None:
        """``route`` lost a hedge: its slot's circuit (its own without a slot) turns half-open and
        one probe runs in the background, off every guest's path."""
        if not route.circuit_keys:
            return
        key = route.slot_key or route.key
        if await self.ctx.health.suspect(key):
            log.info("routing.hedge_lost", route=key, action="probing in the background")
            self.ctx.health.spawn(probe(route, self.ctx, key=key))


def _hung(route: Route, waited: float) -> bool:
    """Whether a timeout after ``waited`` seconds shows a hang: the whole attempt timeout, or
    :data:`HUNG_AFTER_P95` × the route's p95 (a deadline-shortened attempt below that proves nothing)."""
    return waited >= route.attempt_timeout - 0.05 or (route.p95 is not None and waited >= HUNG_AFTER_P95 * route.p95)


def _has_override(route: Route) -> bool:
    return bool(route.settings.attempt_timeout_seconds)


def _reserve(later: Sequence[Route]) -> float:
    """Seconds kept for the fastest of ``later`` routes (0 when there is none)."""
    return min(r.typical for r in later) + RETRY_HEADROOM_SECONDS if later else 0.0


async def run_routes(
    routes: Sequence[Route], ctx: RunContext, states: dict[str, BreakerState] | None = None
) -> RunOutcome:
    """Try ``routes`` as the module docstring says, with the circuits ``states`` (default: read
    from ``ctx.health``). Raises :class:`RunFailed` with the deciding failure."""
    run = _Run(ctx)
    if states is None:
        states = await ctx.health.snapshot([key for r in routes for key in r.circuit_keys])
    candidates: list[Route] = []
    for route in routes:
        closed = [key for key in route.circuit_keys if key not in states or states[key].admits_guests()]
        if len(closed) == len(route.circuit_keys):
            candidates.append(route)
            continue
        key = next(k for k in route.circuit_keys if k not in closed)
        state = states[key]
        whose = "this slot's use of the route" if key != route.key else "route"
        run.skip(
            route, "circuit_open", f"{whose} is {state.state.replace('_', '-')} after: {state.reason or 'failures'}"
        )
        if await ctx.health.claim_probe(key):
            ctx.health.spawn(probe(route, ctx, key=key))
    if not candidates:
        failure = ProviderFailure(
            FailureKind.UNAVAILABLE, "circuit_open", "every route of this slot is failing; rechecked in the background"
        )
        raise RunFailed(failure, run.attempts)
    last: ProviderFailure | None = None
    position = 0
    while position < len(candidates):
        route, later = candidates[position], candidates[position + 1 :]
        reserve = _reserve(later)
        tried = any(a.outcome != "skipped" for a in run.attempts)
        if tried and run.remaining() < route.typical + RESPONSE_MARGIN_SECONDS + reserve:
            run.skip(route, "does_not_fit", f"typical {route.typical:.1f} s no longer fits the deadline")
            position += 1
            continue
        if later and route.hedge_after is not None:
            outcome, used_next = await run.hedged(route, later[0], reserve, _reserve(later[1:]), len(later) > 1)
            position += 2 if used_next else 1
        else:
            outcome = await run.run_route(route, reserve, bool(later))
            position += 1
        if isinstance(outcome, _Success):
            return RunOutcome(outcome.output, outcome.image, outcome.route, run.attempts, int(run.spent * 1000))
        last = outcome
    raise RunFailed(
        last or ProviderFailure(FailureKind.TIMEOUT, "deadline", "no route fits the time left"), run.attempts
    )


async def probe(route: Route, ctx: RunContext, clock: Clock | None = None, key: str | None = None) -> AttemptRecord:
    """One attempt on ``route`` within its attempt timeout, off any guest's path (a shadow attempt
    on an open circuit, or a warm-up), deciding the circuit ``key`` (default the route's own): a
    success closes the route's circuits, any other answer closes ``key``, an outage opens ``key``
    again (a slot's probe that timed out also counts towards the route's circuit, as in
    :func:`record_outcome`). Returns the attempt's record."""
    key = key or route.key
    shadow = _Run(replace(ctx, on_start=None, on_record=None), clock)  # no guest's job records a probe
    keys = ctx.keys(route.provider.name)
    outcome = await shadow.attempt(route, route.attempt_timeout, ctx.keyring.pick(keys))
    if not route.circuit_keys:  # a warm-up of a route without a circuit: nothing to decide
        return shadow.attempts[-1]
    if isinstance(outcome, _Success):
        await record_outcome(ctx.health, route, None)
        log.info("routing.probe_ok", route=key)
    elif not outcome.kind.is_outage:  # it answered (NO_IMAGE, a content block): up, and not hung
        await ctx.health.record(key, None)
        log.info("routing.probe_answered", route=key, failure=str(outcome)[:200])
    else:
        full = outcome.kind is FailureKind.TIMEOUT
        await ctx.health.record(key, outcome, outage=True, full_timeout=True)  # open again
        if key != route.key:
            await ctx.health.record(route.key, outcome, outage=True, full_timeout=full, scope=route.scope)
        log.info("routing.probe_failed", route=key, failure=str(outcome)[:200])
    return shadow.attempts[-1]
