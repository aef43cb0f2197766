"""Readiness checks: what must work for a booth photo to be accepted and kept."""

import asyncio

from photochanger.context import AppContext
from photochanger.health import repository

CHECK_TIMEOUT_SECONDS = 5


async def readiness(ctx: AppContext) -> dict[str, str]:
    """``{"database": …, "media": …, "disk": …}``, each ``"ok"`` or what failed: the database
    accepts a write, the media store accepts a file (its folders are recreated when missing), and
    the disk uploads are spooled to has at least ``MIN_FREE_DISK_MB`` free."""
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), ctx.db.transaction() as session:
            await repository.probe_write(session)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = type(exc).__name__
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await ctx.store.probe()
        checks["media"] = "ok"
    except (OSError, TimeoutError) as exc:
        checks["media"] = type(exc).__name__
    try:
        free_mb = await asyncio.to_thread(ctx.store.free_bytes) // (1024 * 1024)
        enough = free_mb >= ctx.config.min_free_disk_mb
        checks["disk"] = "ok" if enough else f"{free_mb} MB free, below {ctx.config.min_free_disk_mb} MB"
    except OSError as exc:
        checks["disk"] = type(exc).__name__
    return checks
