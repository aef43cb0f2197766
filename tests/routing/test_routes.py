"""Route health through a running server: warm-up, the dashboard's health API, the alert
webhook, background probes of an open route, hedging towards ``local``, and metrics."""

import threading
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.server import ThreadedServer
from tests.tools.processes import allowed

PROMPT = "Keep the people; put them on a beach"
LOCAL = [{"provider": "local", "settings": {"look": "warm"}}]


class WebhookReceiver:
    """Collects the JSON bodies POSTed to it."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self._lock = threading.Lock()
        self._server = ThreadedServer(Starlette(routes=[Route("/hook", self._hook, methods=["POST"])]))
        self.url = ""

    async def _hook(self, request: Request) -> JSONResponse:
        with self._lock:
            self.events.append(await request.json())
        return JSONResponse({"ok": True})

    def wait_for(self, event: str, seconds: float = 10) -> dict:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            with self._lock:
                found = [e for e in self.events if e["event"] == event]
            if found:
                return found[-1]
            time.sleep(0.1)
        raise AssertionError(f"no {event} webhook; got {self.events}")

    def __enter__(self) -> "WebhookReceiver":
        self.url = self._server.start() + "/hook"
        return self

    def __exit__(self, *_exc) -> None:
        self._server.stop()


async def test_an_open_route_is_reported_by_webhook_and_banner_then_probed_closed(svc, fake_gemini):
    await svc.slot("slot-008", "gemini", prompt=PROMPT, settings={"model": "gemini-3-pro-image"}, fallbacks=LOCAL)
    with WebhookReceiver() as hook:
        assert svc.api.put("/api/settings", json={"alert_webhook_url": hook.url}).status_code == 200
        try:
            fake_gemini.reset(default="error_503")
            assert svc.post("slot-008").status == 200  # three 503s: the circuit opens
            opened = hook.wait_for("route.opened")
            assert opened["route"] == "gemini:gemini-3-pro-image" and opened["state"] == "open"
            health = svc.api.get("/api/routes").json()
            assert [r["state"] for r in health["routes"] if r["route_key"] == opened["route"]] == ["open"]
            calls = len(fake_gemini.requests)
            guest = svc.post("slot-008")  # no guest waits on the open route
            assert guest.status == 200 and guest.elapsed < allowed(2) and len(fake_gemini.requests) == calls
            fake_gemini.reset()  # the provider recovers
            time.sleep(5.2)  # the probe interval of the test server
            assert svc.post("slot-008").headers["x-photochanger-fallback"] == "route"  # the probe runs beside
            hook.wait_for("route.closed")
            assert len(fake_gemini.requests) == 1  # exactly one probe call
            back = svc.post("slot-008")
            assert back.status == 200 and "x-photochanger-fallback" not in back.headers
        finally:
            svc.api.put("/api/settings", json={"alert_webhook_url": ""})
    assert svc.api.get("/api/settings").json()["alert_webhook_url"] is None
    metrics = svc.http.get("/metrics").text
    assert 'photochanger_route_circuit_state{route="gemini:gemini-3-pro-image"} 0.0' in metrics
    assert "photochanger_route_attempt_duration_seconds_bucket" in metrics


async def test_a_slow_primary_is_hedged_with_local_and_the_loser_recorded_as_cancelled(svc, fake_gemini):
    fast = {"model": "gemini-3.1-flash-image"}
    await svc.slot("slot-009", "gemini", prompt=PROMPT, settings=fast, fallbacks=LOCAL)
    fake_gemini.reset(latency=0.05)
    for _ in range(6):  # a history of fast answers: the hedge starts after about their p95
        assert svc.post("slot-009").status == 200
    fake_gemini.reset(latency=4.0)
    r = svc.post("slot-009")
    assert r.status == 200 and r.headers["x-photochanger-fallback"] == "route" and r.elapsed < allowed(2.5)
    attempts = await svc.attempts(r.headers["x-job-id"])
    assert sorted((a.route_index, a.outcome) for a in attempts) == [(0, "cancelled"), (1, "success")]
    stats = svc.api.get("/api/stats/overview", params={"window": "1h"}).json()["slots"]["slot-009"]
    assert stats["hedges_lost"] >= 1


async def test_warm_up_sends_one_request_through_every_active_route(svc, fake_gemini):
    await svc.slot("slot-010", "gemini", prompt=PROMPT, fallbacks=LOCAL)
    fake_gemini.reset()
    results = svc.api.post("/api/routes/warmup").json()
    mine = [(r["route_index"], r["route_key"], r["outcome"]) for r in results if r["slot_id"] == "slot-010"]
    assert mine == [(0, "gemini:gemini-2.5-flash-image", "success"), (1, "local:-", "success")]
    assert all(r["latency_ms"] >= 0 for r in results)
    await svc.slot("slot-010", is_active=False)
