"""Health and metrics, in process: the app with its lifespan under ``httpx.ASGITransport`` on a
fresh SQLite database, no server subprocess (the context reaches routes by dependency injection)."""

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import Request

from photochanger import migrations
from photochanger.app import create_app
from photochanger.config import Config
from photochanger.context import AppContext
from photochanger.dependencies import app_context


@asynccontextmanager
async def in_process(data_dir: Path, **settings: object) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    """A client of the app for ``Config(data_dir=..., **settings)``, migrated, lifespan running."""
    config = Config(data_dir=data_dir, ingest_password="booth-secret-4711", **settings)
    await asyncio.to_thread(migrations.upgrade, config.resolved_database_url)
    app = create_app(config)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://booth.test") as client:
            yield client, app


@pytest.fixture
async def app_client(tmp_path):
    async with in_process(tmp_path, metrics_token="scrape-me") as (client, app):
        yield client, app


async def test_readiness_and_liveness_in_process(app_client):
    client, _app = app_client
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "media": "ok", "disk": "ok"}


async def test_metrics_need_the_token(app_client):
    client, _app = app_client
    assert (await client.get("/metrics")).status_code == 401
    scraped = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert scraped.status_code == 200 and "photochanger" in scraped.text


async def test_a_route_takes_its_context_by_dependency_injection(app_client):
    client, app = app_client

    def other_token(request: Request) -> AppContext:
        ctx = request.state.ctx
        return dataclasses.replace(ctx, config=ctx.config.model_copy(update={"metrics_token": "rotated"}))

    app.dependency_overrides[app_context] = other_token
    try:
        assert (await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer rotated"})).status_code == 200
    finally:
        app.dependency_overrides.clear()
    assert (await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})).status_code == 200
