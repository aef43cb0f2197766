"""Routing as the rest of the service uses it: a slot's routes with their timing, what the owner
is told when a route fails (log, metrics, alert webhook), the health overview of the dashboard,
and the warm-up an operator runs before the doors open."""

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from PIL import Image, ImageDraw

from photochanger.alerts import post_alert
from photochanger.imaging import convert, encode
from photochanger.media import service as media
from photochanger.metrics import ROUTE_STATE
from photochanger.providers.base import InputImage, ProviderImage
from photochanger.providers.pricing import Prices, typical_image_cost
from photochanger.providers.registry import InvalidSettings, validate_settings
from photochanger.routing import repository
from photochanger.routing.health import StateChange
from photochanger.routing.latency import LatencyStats, timing
from photochanger.routing.router import Finished, Route, RunContext, probe
from photochanger.routing.schemas import DegradedSlot, RouteHealthView, RoutesOverview, WarmupResult
from photochanger.settings import service as settings_service
from photochanger.slots import service as slots
from photochanger.slots.schemas import SlotView

if TYPE_CHECKING:  # the context is built from this package's parts; it is only a type here
    from photochanger.context import AppContext

log = structlog.get_logger("photochanger.routing")
STATE_VALUES = {"closed": 0, "half_open": 1, "open": 2}
RECENT = timedelta(minutes=15)
WARMUP_TIMEOUT_SECONDS = 45.0
WARMUP_CONCURRENCY = 4


class InvalidRoute(ValueError):
    """A slot's route configuration does not validate; the message says which and why."""


def _cost(route: Route, stats: LatencyStats | None, prices: Prices | None = None) -> float | None:
    """What one attempt on ``route`` is expected to cost: the mean reported by its recent
    successes, else the model's list price for a typical photo; None for ``local`` (free) and
    unpriced models (Turbotext's credits)."""
    if route.provider.name == "local":
        return None
    if stats is not None and stats.mean_cost_usd is not None:
        return stats.mean_cost_usd
    return typical_image_cost(route.model, prices)


async def build_routes(ctx: "AppContext", slot: SlotView, prices: Prices | None = None) -> list[Route]:
    """The slot's primary route and its fallbacks, validated, with timing from their recent
    latency (:func:`photochanger.routing.latency.timing`), hedging as ``slot.hedging`` allows
    (``auto``: only towards a ``local`` route) and the expected cost of an attempt (``prices``:
    the ``model_prices`` setting). Raises :class:`InvalidRoute`."""
    configs = [(slot.provider, slot.settings, slot.prompt)]
    configs += [(f.provider, f.settings, f.prompt or slot.prompt) for f in slot.fallbacks]
    routes = []
    for index, (name, settings, prompt) in enumerate(configs):
        try:
            checked = validate_settings(name, settings, prompt, ctx.config.public_base_url)
        except InvalidSettings as exc:
            raise InvalidRoute(str(exc)) from exc
        provider = ctx.providers[name]
        side = checked.input_max_side or ctx.config.provider_image_max_side or provider.input_side(checked)
        typical = provider.typical_latency(checked)
        routes.append(Route(index, provider, checked, prompt, typical, 0.0, input_side=side, scope=slot.id))
    stats = await ctx.latency.stats([r.key for r in routes])
    timed = []
    for position, route in enumerate(routes):
        override = route.settings.attempt_timeout_seconds
        when = timing(stats[route.key], route.typical, ctx.config.attempt_timeout_floor_seconds, override)
        following = routes[position + 1].provider.name if position + 1 < len(routes) else None
        hedges = (
            following is not None
            and when.hedge_after < when.attempt_timeout  # hedging at the timeout is just falling back
            and (slot.hedging == "on" or (slot.hedging == "auto" and following == "local"))
        )
        timed.append(
            replace(
                route,
                typical=when.typical,
                attempt_timeout=when.attempt_timeout,
                hedge_after=when.hedge_after if hedges else None,
                p95=when.p95,
                cost=_cost(route, stats[route.key], prices),
            )
        )
    return timed


def install_listeners(ctx: "AppContext") -> None:
    """Tell the owner about every circuit change: a log line (warning when a route opens),
    the ``photochanger_route_circuit_state`` gauge, and the alert webhook (when set) on a route
    opening or closing (not on each probe of a route that stays down)."""
    tasks: set[asyncio.Task] = set()

    async def on_change(change: StateChange) -> None:
        old, new = change.previous, change.current
        ROUTE_STATE.labels(new.route_key).set(STATE_VALUES[new.state])
        event = {"open": "route.opened", "closed": "route.closed"}.get(new.state, "route.probing")
        level = log.warning if new.state == "open" and old.state == "closed" else log.info
        level(event, route=new.route_key, previous=old.state, state=new.state, reason=new.reason)
        if event == "route.probing" or (old.state != "closed" and new.state == "open"):
            return
        url = (await settings_service.load(ctx.db)).alert_webhook_url
        if url:
            payload = {
                "event": event,
                "route": new.route_key,
                "state": new.state,
                "previous_state": old.state,
                "reason": new.reason,
                "failures": new.failures,
                "at": (new.changed_at or ctx.clock.now()).isoformat(),
            }
            task = asyncio.create_task(post_alert(url, payload))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    ctx.health.listeners.append(on_change)


async def overview(ctx: "AppContext") -> RoutesOverview:
    """Every route's circuit with its recent attempts, and the slots answering from fallbacks or
    originals in the last 15 minutes (what the dashboard banner shows)."""
    since = ctx.clock.now() - RECENT
    states = {s.route_key: s for s in await ctx.health.all()}
    async with ctx.db.transaction() as session:
        counts = await repository.recent_attempt_counts(session, since)
        degraded = await repository.degraded_slots(session, since)
    used_by: dict[str, list[str]] = {}
    for listed in await slots.list_slots(ctx.db):
        if not listed.is_active:
            continue
        slot = await slots.get_slot(ctx.db, listed.id)  # with its templates
        try:
            for route in await build_routes(ctx, slot):
                used_by.setdefault(route.key, []).append(slot.id)
        except InvalidRoute:
            continue
    views = []
    for key in sorted(set(states) | set(counts) | set(used_by)):
        state = states.get(key)
        total, failed = counts.get(key, (0, 0))
        views.append(
            RouteHealthView(
                route_key=key,
                state=state.state if state else "closed",
                failures_in_a_row=state.failures if state else 0,
                changed_at=state.changed_at if state else None,
                reason=state.reason if state else None,
                attempts_15m=total,
                failed_15m=failed,
                slots=used_by.get(key) or ([key.rpartition("@")[2]] if "@" in key else []),  # a slot's circuit
            )
        )
    return RoutesOverview(
        routes=views,
        degraded_slots=[
            DegradedSlot(slot_id=slot, jobs_15m=n, from_fallback_route=r, from_original=o)
            for slot, (n, r, o) in sorted(degraded.items())
        ],
    )


def warmup_photo() -> InputImage:
    """A small synthetic photo (768×512 JPEG) for warm-up requests."""
    img = Image.new("RGB", (768, 512), "#6d8fb3")
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 340, 768, 512), fill="#7a9a5b")
    draw.ellipse((330, 120, 430, 220), fill="#e0b49a")
    draw.rectangle((320, 220, 440, 420), fill="#2f4f7f")
    return InputImage(encode(img, "image/jpeg", 90).data, "image/jpeg")


async def warmup(ctx: "AppContext", provider: str | None = None) -> list[WarmupResult]:
    """One real request through every route of every active slot (only ``provider``'s routes when
    given), at most 4 at a time, each within its attempt timeout, at most 45 s: each outcome and
    latency, and the circuits updated (a success closes an open route). Not recorded as jobs."""
    photo = warmup_photo()
    gate = asyncio.Semaphore(WARMUP_CONCURRENCY)
    expires = ctx.clock.now() + timedelta(seconds=WARMUP_TIMEOUT_SECONDS + 10)
    publish = media.publisher(ctx.db, ctx.store, ctx.config.public_base_url, expires)
    jobs: list = []
    results: list[WarmupResult] = []
    for slot in await slots.list_slots(ctx.db):
        if not slot.is_active:
            continue
        try:
            routes = await build_routes(ctx, slot)
        except InvalidRoute as exc:
            results.append(
                WarmupResult(slot_id=slot.id, route_index=0, route_key="-", outcome="invalid", detail=str(exc))
            )
            continue
        templates = [
            InputImage(data, row.mime, row.role)
            for row, data in await slots.load_templates(ctx.store, slot, ctx.templates)
        ]
        for route in routes:
            if provider is None or route.provider.name == provider:
                jobs.append((slot, route, templates))

    async def one(slot: SlotView, route: Route, templates: list[InputImage]) -> WarmupResult:
        keys = await settings_service.provider_keys(ctx.db, ctx.config, route.provider.name)

        async def finish(_route: Route, image: ProviderImage) -> Finished:
            return Finished(await ctx.images.run(convert, image.data, "image/jpeg"))

        run_ctx = RunContext(
            photo=photo,
            templates=templates,
            deadline=None,  # type: ignore[arg-type]  # a probe has its own budget
            health=ctx.health,
            keyring=ctx.keyring,
            keys=lambda _name: keys,
            finish=finish,
            publish=publish,
            on_success=lambda r, seconds, cost: ctx.latency.observe(r.key, seconds, cost),
        )
        async with gate:
            record = await probe(
                replace(route, attempt_timeout=min(route.attempt_timeout, WARMUP_TIMEOUT_SECONDS)), run_ctx, ctx.clock
            )
        return WarmupResult(
            slot_id=slot.id, **{k: v for k, v in record.model_dump().items() if k in WarmupResult.model_fields}
        )

    results += await asyncio.gather(*(one(*job) for job in jobs))
    return results


async def purge_expired_permits(ctx: "AppContext") -> int:
    """Forget in-flight places of processes that died (their lease passed); returns how many."""
    async with ctx.db.transaction() as session:
        return await repository.remove_expired_permits(session, ctx.clock.now())
