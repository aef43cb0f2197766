"""Shared by the benchmarks: a real server against a fake Gemini, and percentiles."""

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.conftest import Service
from tests.fakes.gemini import FakeGemini


def percentile(values: list[float], q: int) -> float:
    """Nearest-rank ``q``-th percentile (0–100) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, -(-q * len(ordered) // 100) - 1)]


@asynccontextmanager
async def running_service(prefix: str, **env: str) -> AsyncIterator[tuple[Service, FakeGemini]]:
    """``photochanger serve`` on SQLite in a temp folder, wired to a fresh fake Gemini; ``env``
    adds ``PHOTOCHANGER_*`` variables. Everything is stopped on exit."""
    fake = FakeGemini().start()
    data_dir = Path(tempfile.mkdtemp(prefix=f"photochanger-{prefix}-"))
    service = Service(f"sqlite+aiosqlite:///{data_dir / 'bench.db'}", data_dir, fake)
    service.env.update({"PHOTOCHANGER_LOG_LEVEL": "WARNING", **{f"PHOTOCHANGER_{k}": v for k, v in env.items()}})
    service.start()
    try:
        yield service, fake
    finally:
        service.stop()
        await service.db.dispose()
        fake.stop()
