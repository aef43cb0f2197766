"""A fake webhook receiver (a studio's CRM endpoint): records every POST (headers and exact body)
and answers as told: ``up`` (204), ``down`` (503) or ``hang`` (never, until stopped)."""

import asyncio
import threading
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.server import ThreadedServer


@dataclass(frozen=True)
class Received:
    """One POST as it arrived."""

    headers: dict[str, str]
    body: str
    answered: int | None


class FakeReceiver:
    """``mode`` decides each answer; ``received`` lists every POST (also those answered 503)."""

    def __init__(self) -> None:
        self.mode = "up"
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadedServer(Starlette(routes=[Route("/hook", self._handle, methods=["POST"])]))
        self.url = ""

    def start(self) -> "FakeReceiver":
        self.url = f"{self._server.start()}/hook"
        return self

    def stop(self) -> None:
        self.mode = "up"
        self._server.stop()

    def delivered(self) -> list[Received]:
        """POSTs answered with a 2xx."""
        with self._lock:
            return [r for r in self.received if r.answered == 204]

    async def _handle(self, request: Request) -> Response:
        body = (await request.body()).decode()
        mode = self.mode
        status = {"up": 204, "down": 503}.get(mode)
        with self._lock:
            self.received.append(Received({k.lower(): v for k, v in request.headers.items()}, body, status))
        if mode == "hang":
            await asyncio.sleep(3600)
        return Response(status_code=status or 500)
