"""SQL for route circuits, latency history and in-flight permits."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, case, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.db import dialect_name, rows_affected
from photochanger.jobs.models import Job, JobAttempt
from photochanger.routing.models import InFlightPermit, RouteStateRow


async def get_states(session: AsyncSession, route_keys: Sequence[str]) -> list[RouteStateRow]:
    """The stored circuits of ``route_keys`` (routes never seen have no row)."""
    rows = await session.scalars(select(RouteStateRow).where(RouteStateRow.route_key.in_(list(route_keys))))
    return list(rows)


async def all_states(session: AsyncSession) -> list[RouteStateRow]:
    """Every stored circuit, by route key."""
    return list(await session.scalars(select(RouteStateRow).order_by(RouteStateRow.route_key)))


async def get_state_for_update(session: AsyncSession, route_key: str) -> RouteStateRow | None:
    """One circuit, locked for this transaction on PostgreSQL (SQLite serialises writers)."""
    query = select(RouteStateRow).where(RouteStateRow.route_key == route_key).with_for_update()
    return (await session.scalars(query)).first()


async def save_state(session: AsyncSession, row: RouteStateRow) -> None:
    """Insert or update a circuit row."""
    await session.merge(row)


async def claim_probe(
    session: AsyncSession, route_key: str, now: datetime, open_before: datetime, lost_before: datetime
) -> bool:
    """Atomically mark the route half-open with ``probe_at = now`` if a probe is due: open since
    (or last probed) before ``open_before``, or half-open with a probe claimed before
    ``lost_before``. True if this caller won the claim."""
    result = await session.execute(
        update(RouteStateRow)
        .where(
            RouteStateRow.route_key == route_key,
            or_(
                and_(RouteStateRow.state == "open", RouteStateRow.probe_at <= open_before),
                and_(RouteStateRow.state == "half_open", RouteStateRow.probe_at <= lost_before),
            ),
        )
        .values(state="half_open", probe_at=now)
    )
    return rows_affected(result) == 1


async def recent_successes(session: AsyncSession, route_key: str, limit: int) -> list[tuple[int, float | None]]:
    """``(latency_ms, cost_usd)`` of the route's newest ``limit`` successful attempts."""
    rows = await session.execute(
        select(JobAttempt.latency_ms, JobAttempt.cost_usd)
        .where(JobAttempt.route_key == route_key, JobAttempt.outcome == "success")
        .order_by(JobAttempt.started_at.desc())
        .limit(limit)
    )
    return [(int(latency), cost) for latency, cost in rows]


async def recent_attempt_counts(session: AsyncSession, since: datetime) -> dict[str, tuple[int, int]]:
    """``route_key → (attempts, failed attempts)`` since ``since`` (skipped rows excluded)."""
    failed = func.sum(case((JobAttempt.outcome.in_(("failed", "timeout")), 1), else_=0))
    rows = await session.execute(
        select(JobAttempt.route_key, func.count(), failed)
        .where(JobAttempt.started_at >= since, JobAttempt.outcome != "skipped", JobAttempt.route_key.is_not(None))
        .group_by(JobAttempt.route_key)
    )
    return {str(key): (int(total), int(bad or 0)) for key, total, bad in rows}  # route_key IS NOT NULL


async def degraded_slots(session: AsyncSession, since: datetime) -> dict[str, tuple[int, int, int]]:
    """``slot_id → (booth jobs, answered by a fallback route, answered with the original)`` since
    ``since``, for slots with at least one fallback answer."""
    route = func.sum(case((Job.fallback == "route", 1), else_=0))
    original = func.sum(case((Job.fallback == "original", 1), else_=0))
    rows = await session.execute(
        select(Job.slot_id, func.count(), route, original)
        .where(Job.received_at >= since, Job.source == "ingest", Job.status != "pending")
        .group_by(Job.slot_id)
    )
    return {slot: (int(n), int(r or 0), int(o or 0)) for slot, n, r, o in rows if (r or 0) + (o or 0) > 0}


async def lock_scopes(session: AsyncSession, scopes: Sequence[str]) -> None:
    """Serialise permit changes of ``scopes`` across processes (PostgreSQL advisory transaction
    locks, taken in a fixed order so two requests never deadlock; SQLite has one writer anyway)."""
    if dialect_name(session) != "postgresql":
        return
    for scope in sorted(scopes):
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:scope))"), {"scope": scope})


async def count_permits(session: AsyncSession, scopes: Sequence[str], now: datetime) -> dict[str, int]:
    """Live (unexpired) permits per scope."""
    rows = await session.execute(
        select(InFlightPermit.scope, func.count())
        .where(InFlightPermit.scope.in_(list(scopes)), InFlightPermit.expires_at > now)
        .group_by(InFlightPermit.scope)
    )
    counts = {scope: 0 for scope in scopes}
    counts.update({scope: int(n) for scope, n in rows})
    return counts


async def add_permits(session: AsyncSession, permits: Sequence[InFlightPermit]) -> None:
    """Store new permits."""
    session.add_all(permits)


async def remove_permits(session: AsyncSession, permit_ids: Sequence[str]) -> None:
    """Release permits."""
    await session.execute(delete(InFlightPermit).where(InFlightPermit.id.in_(list(permit_ids))))


async def remove_expired_permits(session: AsyncSession, now: datetime) -> int:
    """Forget permits of dead processes; returns how many."""
    result = await session.execute(delete(InFlightPermit).where(InFlightPermit.expires_at <= now))
    return rows_affected(result)
