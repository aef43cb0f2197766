"""The FastAPI application: routers, error handlers, start-up recovery and background cleanup."""

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from typing import cast

import httpx
import structlog
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from photochanger import allocator
from photochanger.auth.routes import router as auth_router
from photochanger.body_limits import BodyLimits, BodyRefused
from photochanger.config import Config
from photochanger.context import AppContext
from photochanger.errors import error_response, install_error_handlers
from photochanger.events.routes import public_router as events_public_router
from photochanger.events.routes import router as events_router
from photochanger.export.routes import router as export_router
from photochanger.gallery.routes import router as gallery_router
from photochanger.health.routes import router as health_router
from photochanger.ingest.routes import router as ingest_router
from photochanger.ingest.service import resume_late
from photochanger.jobs import service as jobs
from photochanger.jobs.routes import router as jobs_router
from photochanger.leases import service as leases
from photochanger.logs import configure_logging
from photochanger.media.routes import router as media_router
from photochanger.media.service import purge_expired, purge_provider_media, purge_stale_scratch
from photochanger.results.routes import router as results_router
from photochanger.routing import service as routing
from photochanger.routing.routes import router as routing_router
from photochanger.security import SecurityHeaders
from photochanger.settings import service as settings_service
from photochanger.settings.routes import router as settings_router
from photochanger.slots.routes import TEMPLATE_LIMIT_BYTES, catalogue_router
from photochanger.slots.routes import router as slots_router
from photochanger.spend.routes import router as spend_router
from photochanger.stats.routes import router as stats_router
from photochanger.web.routes import STATIC
from photochanger.web.routes import router as web_router
from photochanger.webhooks import service as webhooks
from photochanger.webhooks.routes import router as webhooks_router

log = structlog.get_logger("photochanger.app")
RECOVERY_INTERVAL_SECONDS = 30
UNWRITTEN_ENDS_INTERVAL_SECONDS = 1.0
WEBHOOK_POLL_SECONDS = 1.0


async def maintenance(ctx: AppContext) -> None:
    """Forever: mark dead pending jobs ``interrupted`` (every 30 s) and purge expired media and
    this machine's abandoned scratch files (every ``cleanup_interval_seconds``). Every server
    process runs this loop, but each period only the one that claims the lease (``maintenance``,
    ``media_cleanup``) does the work (the scratch purge is each machine's own). Errors are logged
    and the loop goes on."""
    next_scratch_purge = 0.0
    while True:
        try:
            if ctx.clock.monotonic() >= next_scratch_purge:  # each machine's own scratch folder, lease or not
                next_scratch_purge = ctx.clock.monotonic() + ctx.config.cleanup_interval_seconds
                await purge_stale_scratch(ctx.store)
            if not await leases.claim(ctx.db, "maintenance", RECOVERY_INTERVAL_SECONDS - 1):
                await asyncio.sleep(RECOVERY_INTERVAL_SECONDS)
                continue
            if recovered := await jobs.recover_interrupted(ctx.db):
                log.warning("jobs.interrupted", count=recovered)
            await purge_provider_media(ctx.db, ctx.store)
            await routing.purge_expired_permits(ctx)
            for window in ctx.shared_windows():
                await window.prune()
            if await leases.claim(ctx.db, "media_cleanup", ctx.config.cleanup_interval_seconds):
                report = await purge_expired(ctx.db, ctx.store)
                if report.files or report.temp_files:
                    log.info(
                        "media.cleanup",
                        jobs=report.jobs,
                        files=report.files,
                        bytes=report.bytes,
                        temp_files=report.temp_files,
                    )
        except Exception:
            log.exception("maintenance.failed")
        await asyncio.sleep(RECOVERY_INTERVAL_SECONDS)


async def write_unwritten_ends(ctx: AppContext) -> None:
    """Forever, every :data:`UNWRITTEN_ENDS_INTERVAL_SECONDS`: write the job ends the database
    refused (:class:`photochanger.jobs.service.UnwrittenEnds`) once it takes writes again."""
    while True:
        await asyncio.sleep(UNWRITTEN_ENDS_INTERVAL_SECONDS)
        if len(ctx.unwritten_ends):
            try:
                await ctx.unwritten_ends.flush(ctx.db)
            except Exception:
                log.exception("jobs.ends_not_written")


async def late_work(ctx: AppContext) -> None:
    """Forever, every third of ``LATE_LEASE_SECONDS``: renew the leases of
    the late jobs this process runs (stopping those an admin cancelled or another process took
    over), then take over continuing jobs whose lease lapsed, as many as this process has room
    for. On SQLite (one process) the first round takes every continuing job: whatever held it died."""
    first = ctx.db.engine.dialect.name == "sqlite"
    lease = ctx.config.late_lease_seconds
    while True:
        try:
            running = [job_id for job_id in ctx.continuations.ids() if job_id not in ctx.unwritten_ends]
            held = await jobs.renew_late(ctx.db, running, lease)
            for job_id in running:
                if job_id not in held:
                    log.info("jobs.late_stopped", job_id=job_id, reason="cancelled or taken over")
                    ctx.continuations.cancel(job_id)
            for row in await jobs.claim_late(ctx.db, ctx.continuations.room(), lease, lapsed_only=not first):
                if row.id not in ctx.continuations:
                    ctx.continuations.adopt(row.id, resume_late(ctx, row))
            first = False
        except Exception:
            log.exception("jobs.late_work_failed")
        await asyncio.sleep(lease / 3)


async def send_webhooks(ctx: AppContext) -> None:
    """Forever, every :data:`WEBHOOK_POLL_SECONDS`: send the photo webhook's due deliveries (any
    process may; each delivery is claimed by one), off every booth's path."""
    rng = random.Random()

    async def secret() -> str | None:
        return (await settings_service.load(ctx.db)).webhook_secret

    async with httpx.AsyncClient(follow_redirects=False) as client:
        while True:
            try:
                while await webhooks.deliver_due(
                    ctx.db, client, secret, ctx.clock, ctx.config.webhook_allow_loopback, rng
                ):
                    pass  # a full batch: the next at once
            except Exception:
                log.exception("webhook.send_failed")
            await asyncio.sleep(WEBHOOK_POLL_SECONDS)


def create_app(config: Config | None = None) -> FastAPI:
    """The application for ``config`` (default: from the environment). The schema must already be
    migrated (``photochanger serve`` does that)."""
    config = config or Config()
    configure_logging(config.log_level)
    allocator.keep_freed_buffers()  # in each server process (serve --workers N imports this factory)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, AppContext]]:
        ctx = AppContext.create(config)
        await ctx.store.ensure()
        routing.install_listeners(ctx)
        await settings_service.seed(ctx.db, config)
        try:  # at once, whoever holds the maintenance lease: a restart after a crash recovers its jobs
            if recovered := await jobs.recover_interrupted(ctx.db):
                log.warning("jobs.interrupted", count=recovered)
        except Exception:
            log.exception("maintenance.failed")
        tasks = [
            asyncio.create_task(maintenance(ctx)),
            asyncio.create_task(write_unwritten_ends(ctx)),
            asyncio.create_task(late_work(ctx)),
            asyncio.create_task(send_webhooks(ctx)),
        ]
        log.info("app.started", database=ctx.db.engine.dialect.name, media=ctx.store.location)
        if ctx.config.password_hash_cost != "standard":
            log.warning("auth.weak_password_hashing", cost=ctx.config.password_hash_cost)  # a test suite's setting
        try:
            yield {"ctx": ctx}  # Starlette's lifespan state: each request's ``request.state.ctx``
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            late = await ctx.continuations.stop()
            with contextlib.suppress(Exception):  # a last try before the process ends
                await ctx.unwritten_ends.flush(ctx.db)
            with contextlib.suppress(Exception):  # another process takes the late jobs over at once
                await jobs.release_late(ctx.db, late)
            if len(ctx.unwritten_ends):
                log.error("jobs.ends_lost_at_exit", count=len(ctx.unwritten_ends))
            await ctx.db.dispose()

    docs = "/docs" if config.api_docs else None  # Swagger UI loads from a CDN: off unless asked for
    app = FastAPI(title="PhotoChanger", version="0.1.0", lifespan=lifespan, docs_url=docs, redoc_url=None)
    install_error_handlers(app)
    app.add_exception_handler(BodyRefused, lambda _request, exc: error_response(cast(BodyRefused, exc).error()))
    app.add_middleware(
        BodyLimits,
        jwt_secret=lambda: config.resolved_jwt_secret,
        upload_limit=max(config.max_upload_bytes, TEMPLATE_LIMIT_BYTES),
        idle=config.upload_idle_seconds,
    )
    app.add_middleware(SecurityHeaders)
    app.mount("/ui", StaticFiles(directory=STATIC, html=True), name="ui")
    routers = (
        ingest_router,
        auth_router,
        slots_router,
        catalogue_router,
        jobs_router,
        settings_router,
        media_router,
        stats_router,
        gallery_router,
        results_router,
        routing_router,
        webhooks_router,
        spend_router,
        events_router,
        events_public_router,
        export_router,
        health_router,
        web_router,
    )
    for router in routers:
        app.include_router(router)
    return app
