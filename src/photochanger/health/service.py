"""Readiness checks: what must work for a booth photo to be accepted and kept."""

import asyncio
import shutil

from photochanger.context import AppContext
from photochanger.health import repository

CHECK_TIMEOUT_SECONDS = 5


async def readiness(ctx: AppContext) -> dict[str, str]:
    """``{"database": …, "media": …, "disk": …}``, each ``"ok"`` or what failed: the database
    accepts a write, the media store accepts a file (its folders are recreated when missing), and
    the media disk has at least ``MIN_FREE_DISK_MB`` free."""
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), ctx.db.transaction() as session:
            await repository.probe_write(session)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = type(exc).__name__
    try:
        await asyncio.to_thread(_probe_media, ctx)
        checks["media"] = "ok"
    except OSError as exc:
        checks["media"] = type(exc).__name__
    try:
        free_mb = shutil.disk_usage(ctx.store.root).free // (1024 * 1024)
        enough = free_mb >= ctx.config.min_free_disk_mb
        checks["disk"] = "ok" if enough else f"{free_mb} MB free, below {ctx.config.min_free_disk_mb} MB"
    except OSError as exc:
        checks["disk"] = type(exc).__name__
    return checks


def _probe_media(ctx: AppContext) -> None:
    ctx.store.ensure()
    ctx.store.write("tmp/readyz.probe", b"ok")
    ctx.store.delete("tmp/readyz.probe")
