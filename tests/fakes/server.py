"""Run an ASGI app with uvicorn on 127.0.0.1 in a background thread (for fake providers)."""

import asyncio
import random
import threading
import time
from collections import deque

import uvicorn


class ThreadedServer:
    """``start()`` binds a free port and returns the base URL; ``stop()`` shuts down."""

    def __init__(self, app) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


class ScriptedFake:
    """Base of the provider fakes: answers follow a queue of scenario names, then ``default`` (or a
    random ``mix`` of scenario → weight); ``latency`` seconds delay every answer; requests are recorded.

    ``uplink_mbit`` (None: unlimited) models the studio's uplink to the provider: one shared link of
    that many megabits per second, so each request body arrives ``bytes × 8 / rate`` seconds after
    the link is free (concurrent uploads queue behind each other, as on a real uplink)."""

    def __init__(self, app) -> None:
        self.requests: list = []
        self.script: deque[str] = deque()
        self.default = "success"
        self.latency = 0.0
        self.mix: dict[str, float] | None = None
        self.uplink_mbit: float | None = None
        self._link_free_at = 0.0
        self._lock = threading.Lock()
        self._server = ThreadedServer(app)
        self.url = ""

    def start(self):
        self.url = self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self, *scenarios: str, default: str = "success", latency: float = 0.0) -> None:
        """Answer ``scenarios`` in order, then ``default``; forget recorded requests."""
        with self._lock:
            self.requests.clear()
            self.script = deque(scenarios)
            self.default, self.latency, self.mix = default, latency, None

    async def transmit(self, size: int) -> None:
        """Hold a request body of ``size`` bytes for its time on the shared uplink (if modelled)."""
        if self.uplink_mbit is None:
            return
        with self._lock:
            now = time.monotonic()
            self._link_free_at = max(now, self._link_free_at) + size * 8 / (self.uplink_mbit * 1e6)
            wait = self._link_free_at - now
        await asyncio.sleep(wait)

    def record(self, request: object) -> None:
        with self._lock:
            self.requests.append(request)

    def next_scenario(self) -> str:
        with self._lock:
            if self.script:
                return self.script.popleft()
            if self.mix:
                return random.choices(list(self.mix), weights=list(self.mix.values()))[0]
            return self.default
