"""Readiness checks."""

import asyncio

from sqlalchemy import text

from photochanger.context import AppContext


async def readiness(ctx: AppContext) -> dict[str, str]:
    """``{"database": "ok"|error, "media": "ok"|error}``."""
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(5), ctx.db.transaction() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = type(exc).__name__
    try:
        await asyncio.to_thread(ctx.store.write, "tmp/readyz.probe", b"ok")
        ctx.store.delete("tmp/readyz.probe")
        checks["media"] = "ok"
    except OSError as exc:
        checks["media"] = type(exc).__name__
    return checks
