"""Spend caps: reservations hold the cap when many booths pay at once, past it every guest still
gets a photo, and the owner is warned once."""

import asyncio
import concurrent.futures
import json
import re
import uuid
from datetime import UTC, datetime

import pytest

from photochanger.spend import repository
from photochanger.spend.service import Reservation, reserve, settlements, state
from tests.conftest import PHOTOS
from tests.fakes.receiver import FakeReceiver

PRICE = 0.0392  # the fake Gemini's usage (1548 in, 1290 out tokens) at gemini-2.5-flash-image's list price


async def test_thirty_booths_at_once_stay_within_the_cap_and_every_guest_gets_a_photo(svc, fake_gemini):
    receiver = FakeReceiver().start()
    scope = f"day:{datetime.now(UTC).date().isoformat()}"
    async with svc.db.transaction() as session:  # today's spend starts at zero for this test
        await session.execute(repository.TOTALS.delete().where(repository.TOTALS.c.scope == scope))
    svc.api.put("/api/settings", json={"daily_spend_cap_usd": 0.50, "alert_webhook_url": receiver.url})
    await svc.slot("slot-011", "gemini", prompt="A sunny beach", max_in_flight=32)
    fake_gemini.reset(latency=0.5)
    try:
        photo = (PHOTOS / "astronaut.jpg").read_bytes()
        with concurrent.futures.ThreadPoolExecutor(30) as pool:
            answers = list(pool.map(lambda _n: svc.post("slot-011", photo), range(30)))
        assert [a.status for a in answers] == [200] * 30  # nobody refused
        jobs = [await svc.job(a.headers["x-job-id"]) for a in answers]
        paid = [j for j in jobs if j.cost_usd]
        spent = sum(j.cost_usd for j in paid)
        assert spent <= 0.50 + PRICE  # never over the cap by more than one attempt's price
        assert len(paid) == len(fake_gemini.requests) >= 11  # what fits: 12 × 0.0392 = 0.47
        skipped = [a for a in answers if a.headers.get("x-photochanger-fallback") == "budget"]
        assert len(skipped) == 30 - len(paid) and all(a.body == photo for a in skipped)  # the original
        assert all(j.failure_reason == "budget_exhausted" for j in jobs if not j.cost_usd)
        today = svc.api.get("/api/spend").json()
        assert today["state"] == "exhausted" and today["reserved_usd"] == pytest.approx(0, abs=1e-6)
        assert today["spent_usd"] == pytest.approx(spent, abs=1e-6)
        for _ in range(50):
            if receiver.received:
                break
            await asyncio.sleep(0.1)
        warnings = [json.loads(r.body) for r in receiver.received]
        assert [w["event"] for w in warnings] == ["budget.warning"]  # once, at 80 %
        svc.api.put("/api/settings", json={"daily_spend_cap_usd": 5.0})  # the operator raises it live
        assert svc.post("slot-011", photo).headers.get("x-photochanger-fallback") is None
        assert svc.api.get("/api/spend").json()["state"] == "ok"
    finally:
        svc.api.put("/api/settings", json={"daily_spend_cap_usd": None, "alert_webhook_url": ""})
        receiver.stop()


async def test_racing_reservations_never_pass_the_cap(svc):
    scope = "day:test-race"
    async with svc.db.transaction() as session:
        await session.execute(repository.TOTALS.delete().where(repository.TOTALS.c.scope == scope))
    outcomes = await asyncio.gather(*(reserve(svc.db, scope, 0.1, 1.0, 80) for _ in range(25)))
    assert sum(ok for ok, _warn in outcomes) == 10  # 10 × 0.1 fit a 1.0 cap, not one more
    assert sum(warn for _ok, warn in outcomes) == 1


def test_settling_uses_the_reported_cost_the_estimate_when_it_may_have_been_billed_else_nothing():
    from photochanger.jobs.schemas import AttemptRecord

    at = datetime(2026, 12, 2, tzinfo=UTC)

    def attempt(index: int, outcome: str, cost: float | None) -> AttemptRecord:
        return AttemptRecord(route_index=index, provider="gemini", model="m", outcome=outcome, started_at=at,
                             latency_ms=1, cost_usd=cost)  # fmt: skip

    held = [Reservation("day:x", 0.04, (n, at), "gemini:m") for n in range(4)]
    done = [attempt(0, "success", 0.039), attempt(1, "timeout", None), attempt(2, "failed", None)]
    assert settlements(held, done) == [("day:x", 0.04, 0.039), ("day:x", 0.04, 0.04), ("day:x", 0.04, 0.0)]
    assert settlements(held, done) == []  # settled once; the 4th is still under way
    assert (
        state(0.41, 0.5, 80) == "warning"
        and state(0.47, 0.5, 80, 0.5) == "exhausted"
        and state(1, None, 80) == "uncapped"
    )


async def test_an_events_cap_holds_for_thirty_booths_at_once_and_warns_once(svc, fake_gemini):
    receiver = FakeReceiver().start()
    svc.api.put("/api/settings", json={"daily_spend_cap_usd": None, "alert_webhook_url": receiver.url})
    await svc.slot("slot-012", "gemini", prompt="A sunny beach", max_in_flight=32)
    event = svc.api.post("/api/events", json={"name": "Capped", "slot_ids": ["slot-012"], "spend_cap_usd": 0.5}).json()
    svc.api.post(f"/api/events/{event['id']}/start")
    fake_gemini.reset(latency=0.5)
    try:
        photo = (PHOTOS / "astronaut.jpg").read_bytes()
        with concurrent.futures.ThreadPoolExecutor(30) as pool:
            answers = list(pool.map(lambda _n: svc.post("slot-012", photo), range(30)))
        assert [a.status for a in answers] == [200] * 30  # every guest gets a photo
        jobs = [await svc.job(a.headers["x-job-id"]) for a in answers]
        spent = sum(j.cost_usd or 0 for j in jobs)
        assert spent <= 0.50 + PRICE and len(fake_gemini.requests) >= 11
        past_cap = [a for a in answers if a.headers.get("x-photochanger-fallback") == "budget"]
        assert past_cap and all(a.body == photo for a in past_cap)
        summary = svc.api.get(f"/api/events/{event['id']}/summary").json()
        assert summary["spent_usd"] == pytest.approx(spent, abs=1e-6) and summary["reserved_usd"] == pytest.approx(0)
        assert summary["spend_state"] == "exhausted" and summary["photos"] == 30
        for _ in range(50):
            if receiver.received:
                break
            await asyncio.sleep(0.1)
        warnings = [json.loads(r.body) for r in receiver.received]
        assert [(w["event"], w["scope"]) for w in warnings] == [("budget.warning", f"event:{event['id']}")]
        svc.api.patch(f"/api/events/{event['id']}", json={"spend_cap_usd": 5})  # raised live
        assert svc.post("slot-012", photo).headers.get("x-photochanger-fallback") is None
    finally:
        svc.api.put("/api/settings", json={"alert_webhook_url": ""})
        svc.api.post(f"/api/events/{event['id']}/end")
        svc.api.delete(f"/api/events/{event['id']}")
        receiver.stop()


async def test_a_reservation_held_against_the_day_and_the_event_is_all_or_nothing(svc):
    from photochanger.spend.service import reserve_all, scope_totals

    day, event = f"day:test-{uuid.uuid4().hex[:8]}", f"event:test-{uuid.uuid4().hex[:8]}"
    assert await reserve_all(svc.db, [(day, 1.0), (event, 0.12)], 0.1, 80) == (None, [(event, 0.12)])
    refused, warned = await reserve_all(svc.db, [(day, 1.0), (event, 0.12)], 0.1, 80)
    assert refused == (event, 0.12) and warned == []
    assert await scope_totals(svc.db, day) == (0.0, pytest.approx(0.1), None)  # the day's second hold was undone


async def test_prices_set_for_a_model_price_its_calls_and_its_reservations(svc, fake_gemini):
    await svc.slot("slot-013", "gemini", prompt="A sunny beach")
    svc.api.put("/api/settings", json={"model_prices": {"gemini-2.5-flash-image": [0, 0, 100.0]}})
    try:
        job = await svc.job(svc.post("slot-013").headers["x-job-id"])
        assert job.cost_usd == pytest.approx(1290 * 100.0 / 1_000_000)  # the fake's 1290 output tokens at $100/M
        assert svc.api.get("/api/settings").json()["model_prices"] == {"gemini-2.5-flash-image": [0, 0, 100.0]}
        assert svc.api.put("/api/settings", json={"model_prices": {"x": [-1, 0, 0]}}).status_code == 422
    finally:
        svc.api.put("/api/settings", json={"model_prices": {}})
    assert svc.api.get("/api/settings").json()["model_prices"] is None
    job = await svc.job(svc.post("slot-013").headers["x-job-id"])
    assert job.cost_usd == pytest.approx(PRICE, abs=1e-4)  # the list price again


async def _settled(svc, scope: str) -> None:
    """Wait until nothing is reserved against ``scope`` (every attempt's job has ended)."""
    from photochanger.spend.service import scope_totals

    for _ in range(200):
        if (await scope_totals(svc.db, scope))[1] < 1e-9:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{scope}: reservations still held after 10 s")


async def test_a_slots_own_daily_cap_skips_its_paid_routes_past_it(svc, fake_gemini):
    from photochanger.spend.service import scope_totals, slot_scope

    async with svc.db.transaction() as session:  # this slot's day starts at zero for this test
        scope = slot_scope("slot-014", datetime.now(UTC))
        await session.execute(repository.TOTALS.delete().where(repository.TOTALS.c.scope == scope))
    await svc.slot("slot-014", "gemini", prompt="A sunny beach")
    assert svc.api.put("/api/slots/slot-014", json={"daily_spend_cap_usd": 0.1}).status_code == 200
    try:
        answers = []
        for _ in range(4):
            answers.append(svc.post("slot-014"))
            await _settled(svc, scope)  # a job's end (after its answer) settles what its attempts reserved
        assert [a.status for a in answers] == [200] * 4
        fallbacks = [a.headers.get("x-photochanger-fallback") for a in answers]
        paid = fallbacks.count(None)  # 2 × 0.0392 fit in 0.10, a third not; fewer where a slow machine
        assert paid >= 1 and fallbacks == [None] * paid + ["budget"] * (4 - paid)  # retried, or the mean cost rose
        spent, _reserved, refused_at = await scope_totals(svc.db, scope)
        assert spent <= 0.1 + 1e-9 and refused_at == 0.1  # never past the cap
        tries = await svc.attempts(answers[paid].headers["x-job-id"])  # the first photo the cap refused
        skipped = [a for a in tries if a.failure_class == "budget_exhausted"]
        estimate = float(re.search(r"this route \(\$([0-9.]+)\)", skipped[0].detail or "")[1])  # the route's mean cost
        reserved_before = estimate * (len(tries) - len(skipped))  # its own tries before, held while under way
        assert spent + reserved_before + estimate > 0.1, (spent, [(a.outcome, a.detail) for a in tries])
    finally:
        svc.api.put("/api/slots/slot-014", json={"daily_spend_cap_usd": None})
    assert svc.api.get("/api/slots/slot-014").json()["daily_spend_cap_usd"] is None
