"""Spend caps that hold under concurrency: before a paid attempt starts its estimated cost is
*reserved* against the day's cap (``daily_spend_cap_usd``; the UTC day, every slot), atomically
across server processes; the job's end settles it with the attempt's reported cost (or the
estimate when an attempt that may have been billed reports none: a timeout, a lost hedge). At the
soft threshold (``spend_warning_percent``, default 80 %) the owner is told once (dashboard
banner, alert webhook ``budget.warning``); at the cap paid routes are skipped and the slot answers
from its ``local`` route or with the original (``X-PhotoChanger-Fallback: budget``). Amounts are
US dollars at list prices (:mod:`photochanger.providers.pricing`): estimates, not invoices.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

import structlog

from photochanger.alerts import post_alert
from photochanger.db import Database, utcnow
from photochanger.metrics import EVENT_SPEND_USD, SPEND_USD
from photochanger.spend import repository

log = structlog.get_logger("photochanger.spend")
BILLED_WITHOUT_COST = frozenset({"timeout", "cancelled", "in_flight", "interrupted"})  # may have been billed


def day_scope(now: datetime) -> str:
    """The budget scope of ``now``'s UTC day, e.g. ``day:2026-12-02``."""
    return f"day:{now.date().isoformat()}"


def slot_scope(slot_id: str, now: datetime) -> str:
    """The budget scope of one slot's UTC day, e.g. ``slot:slot-003:2026-12-02``."""
    return f"slot:{slot_id}:{now.date().isoformat()}"


def event_scope(event_id: str) -> str:
    """The budget scope of an event, e.g. ``event:3f2a…``."""
    return f"event:{event_id}"


class Attempt(Protocol):
    """What settling needs of an attempt's record (``jobs.schemas.AttemptRecord`` has it)."""

    route_index: int
    started_at: datetime
    outcome: str
    cost_usd: float | None


@dataclass
class Reservation:
    """An attempt's estimated cost held against ``scope`` until the job's end settles it;
    ``key`` is the attempt's (route index, start time)."""

    scope: str
    amount: float
    key: tuple[int, datetime]
    route_key: str
    settled: bool = False


async def reserve(db: Database, scope: str, amount: float, cap: float, warn_percent: int) -> tuple[bool, bool]:
    """Reserve ``amount`` against ``scope`` under ``cap``: ``(reserved, warn_now)``, ``warn_now``
    True for the one reservation that first crossed ``warn_percent`` of the cap."""
    reserved, warned = await reserve_all(db, [(scope, cap)], amount, warn_percent)
    return reserved is None, bool(warned)


async def reserve_all(
    db: Database, caps: Sequence[tuple[str, float]], amount: float, warn_percent: int
) -> tuple[tuple[str, float] | None, list[tuple[str, float]]]:
    """Reserve ``amount`` against every ``(scope, cap)`` or none (one transaction: a scope that
    refuses undoes the ones before it). Returns ``(refused, warn_now)``: the ``(scope, cap)`` that
    had no room (None: all reserved) and those whose warning threshold this reservation crossed
    first (each warned once)."""
    warned: list[tuple[str, float]] = []
    async with db.transaction(write=True) as session:
        done: list[str] = []
        for scope, cap in caps:
            await repository.ensure(session, scope)
            if not await repository.reserve(session, scope, amount, cap):
                for earlier in done:
                    await repository.settle(session, earlier, amount, 0.0)
                return (scope, cap), []
            done.append(scope)
            if await repository.claim_warning(session, scope, cap * warn_percent / 100, utcnow()):
                warned.append((scope, cap))
    return None, warned


def settlements(reservations: list[Reservation], attempts: Sequence[Attempt]) -> list[tuple[str, float, float]]:
    """``(scope, reserved, spent)`` of the reservations whose attempt has ended (marked settled),
    spent = the attempt's cost, else its estimate when it may have been billed, else 0. The
    attempts still under way stay reserved (a late job settles them when it ends)."""
    ended = {(a.route_index, a.started_at): a for a in attempts if a.outcome != "in_flight"}
    out, counted = [], set()
    for reservation in reservations:
        attempt = ended.get(reservation.key)
        if reservation.settled or attempt is None:
            continue
        if attempt.cost_usd is not None:
            spent = attempt.cost_usd
        else:
            spent = reservation.amount if attempt.outcome in BILLED_WITHOUT_COST else 0.0
        reservation.settled = True
        if spent and reservation.scope.startswith("event:"):
            EVENT_SPEND_USD.labels(reservation.scope.removeprefix("event:")).inc(spent)
        if spent and reservation.key not in counted:  # one attempt held against the day and its event
            counted.add(reservation.key)
            SPEND_USD.labels(reservation.route_key).inc(spent)
        out.append((reservation.scope, reservation.amount, spent))
    return out


async def warn(url: str | None, scope: str, cap: float, percent: int, tasks: set[asyncio.Task]) -> None:
    """Tell the owner the scope crossed ``percent`` % of ``cap``: a log line and, with an alert
    webhook, ``{"event": "budget.warning", …}`` (sent in the background)."""
    log.warning("spend.warning", scope=scope, cap_usd=cap, percent=percent)
    if url:
        payload = {"event": "budget.warning", "scope": scope, "cap_usd": cap, "percent": percent,
                   "at": utcnow().isoformat()}  # fmt: skip
        task = asyncio.create_task(post_alert(url, payload))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


async def scope_totals(db: Database, scope: str) -> tuple[float, float, float | None]:
    """``(spent, reserved, refused_at_cap)`` of ``scope``: US dollars (0 before its first paid
    attempt) and the cap under which a paid attempt was last refused (None: never)."""
    async with db.transaction() as session:
        rows = await repository.totals(session, [scope])
    return (rows[0].spent_usd, rows[0].reserved_usd, rows[0].refused_at_cap) if rows else (0.0, 0.0, None)


async def today(db: Database) -> tuple[str, float, float, float | None]:
    """Today's scope, spent and reserved (US dollars), and the cap that last refused an attempt."""
    scope = day_scope(utcnow())
    async with db.transaction() as session:
        rows = await repository.totals(session, [scope])
    if not rows:
        return scope, 0.0, 0.0, None
    return scope, rows[0].spent_usd, rows[0].reserved_usd, rows[0].refused_at_cap


SpendState = Literal["ok", "warning", "exhausted", "uncapped"]


def state(used: float, cap: float | None, warn_percent: int, refused_at_cap: float | None = None) -> SpendState:
    """``uncapped``, ``ok``, ``warning`` (at ``warn_percent`` % of the cap) or ``exhausted`` (an
    attempt was refused under this cap, or the cap is spent)."""
    if cap is None:
        return "uncapped"
    if used >= cap or (refused_at_cap is not None and refused_at_cap >= cap):
        return "exhausted"
    return "warning" if used >= cap * warn_percent / 100 else "ok"
