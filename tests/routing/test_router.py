"""The router's rules on virtual time (``looptime``): budgets, retries, fallbacks, hedging and
circuits, asserted in exact seconds through the event loop's clock."""

import pytest

from photochanger.providers.base import FailureKind
from photochanger.routing.router import RESPONSE_MARGIN_SECONDS, RunFailed, run_routes
from tests.routing.conftest import Harness, ScriptedProvider, Step, route

pytestmark = [pytest.mark.looptime, pytest.mark.asyncio(loop_scope="function")]


async def test_a_hung_primary_gets_its_attempt_timeout_then_the_fallback_answers():
    h = Harness()
    primary, local = ScriptedProvider("gemini", default=Step(None)), ScriptedProvider("local", default=Step(0.3))
    start = h.now()
    result = await run_routes([route(primary, attempt_timeout=12), route(local, 1, typical=0.3)], h.context())
    assert result.route.index == 1 and h.now() - start == pytest.approx(12.3)
    assert [(a.outcome, a.failure_class) for a in result.attempts] == [("timeout", "timeout"), ("success", None)]


async def test_the_last_route_keeps_the_whole_deadline():
    h = Harness()
    primary = ScriptedProvider("gemini", default=Step(None))
    start = h.now()
    with pytest.raises(RunFailed) as failed:
        await run_routes([route(primary, attempt_timeout=12)], h.context(20))
    assert failed.value.failure.kind is FailureKind.TIMEOUT
    assert h.now() - start == pytest.approx(20 - RESPONSE_MARGIN_SECONDS)


async def test_the_attempt_budget_keeps_room_for_the_fastest_later_route():
    h = Harness()
    primary, local = ScriptedProvider("gemini", default=Step(None)), ScriptedProvider("local", default=Step(0.5))
    start = h.now()
    result = await run_routes(
        [route(primary, attempt_timeout=60), route(local, 1, typical=0.5)], h.context(10)
    )  # 10 − 1 margin − (0.5 + 2 headroom) = 6.5 s for the primary
    assert result.route.index == 1 and h.now() - start == pytest.approx(6.5 + 0.5)


async def test_no_image_is_retried_at_once_and_server_errors_after_a_short_jittered_backoff():
    h = Harness()
    provider = ScriptedProvider(
        steps=[Step(1, FailureKind.NO_IMAGE), Step(1, FailureKind.SERVER_ERROR), Step(1)],
    )
    result = await run_routes([route(provider)], h.context())
    gaps = [later - (earlier + 1) for (earlier, _), (later, _) in zip(provider.calls, provider.calls[1:], strict=False)]
    assert gaps[0] == pytest.approx(0.0)  # NO_IMAGE: at once
    assert 0.1 <= gaps[1] <= 0.5  # 5xx: jittered back-off of at most 0.5 s
    assert [a.failure_class for a in result.attempts] == ["no_image", "server_error", None]


async def test_three_tries_then_the_next_route_when_one_exists():
    h = Harness(threshold=10)
    primary = ScriptedProvider("gemini", default=Step(0.2, FailureKind.NO_IMAGE))
    local = ScriptedProvider("local", default=Step(0.3))
    result = await run_routes([route(primary), route(local, 1, typical=0.3)], h.context())
    assert len(primary.calls) == 3 and result.route.index == 1


async def test_a_rate_limit_hint_that_cannot_fit_fails_fast_as_unavailable():
    h = Harness()
    provider = ScriptedProvider(default=Step(0.1, FailureKind.RATE_LIMITED, retry_after=60))
    start = h.now()
    with pytest.raises(RunFailed) as failed:
        await run_routes([route(provider)], h.context())
    assert failed.value.failure.kind is FailureKind.UNAVAILABLE and h.now() - start == pytest.approx(0.1)


async def test_a_content_block_is_never_retried_on_the_same_route():
    h = Harness()
    provider = ScriptedProvider(default=Step(0.5, FailureKind.CONTENT_REJECTED))
    with pytest.raises(RunFailed) as failed:
        await run_routes([route(provider)], h.context())
    assert failed.value.failure.kind is FailureKind.CONTENT_REJECTED and len(provider.calls) == 1


async def test_any_exception_and_an_undecodable_image_are_unexpected_responses_that_fall_back():
    h = Harness()
    broken = ScriptedProvider(steps=[Step(0.1, raise_=KeyError("candidates"))], default=Step(0.1))
    local = ScriptedProvider("local", default=Step(0.2))

    async def not_an_image(*_args):
        from photochanger.providers.base import ProviderImage

        return ProviderImage(b"<html>portal</html>")

    garbage = ScriptedProvider("openai")
    garbage.generate = not_an_image  # type: ignore[method-assign]  # an image that does not decode
    for provider in (broken, garbage):
        result = await run_routes([route(provider), route(local, 1, typical=0.2)], h.context())
        assert result.attempts[0].failure_class == "unexpected_response"
        assert result.attempts[-1].outcome == "success"  # a retry (after a back-off) or the fallback


async def test_a_refused_key_moves_to_the_next_key_without_counting_against_the_route():
    h = Harness(threshold=1)
    h.keys["fake"] = ["bad-key", "good-key"]
    provider = ScriptedProvider(steps=[Step(0.1, FailureKind.KEY_REJECTED)], default=Step(0.5))
    result = await run_routes([route(provider)], h.context())
    assert [key for _, key in provider.calls] == ["bad-key", "good-key"]
    assert result.route.index == 0 and (await h.health.snapshot([route(provider).key]))["fake:m1"].state == "closed"


async def test_hedging_starts_the_next_route_beside_a_slow_one_and_the_first_success_answers():
    h = Harness()
    primary = ScriptedProvider("gemini", default=Step(8.0))
    local = ScriptedProvider("local", default=Step(0.3))
    start = h.now()
    result = await run_routes(
        [route(primary, hedge_after=2.0, attempt_timeout=15), route(local, 1, typical=0.3)], h.context()
    )
    assert result.route.index == 1 and h.now() - start == pytest.approx(2.3)
    outcomes = sorted((a.route_index, a.outcome) for a in result.attempts)
    assert outcomes == [(0, "cancelled"), (1, "success")]
    state = (await h.health.snapshot(["gemini:m1"]))["gemini:m1"]
    assert state.state == "half_open"  # a lost hedge: no guest goes there until the probe has answered
    await h.health.drain()
    assert len(primary.calls) == 2  # the probe: slow (8 s) but within its attempt timeout…
    assert (await h.health.snapshot(["gemini:m1"]))["gemini:m1"].state == "closed"  # …so guests go back


async def test_a_fast_primary_is_not_hedged():
    h = Harness()
    primary, local = ScriptedProvider("gemini", default=Step(1.5)), ScriptedProvider("local", default=Step(0.3))
    result = await run_routes([route(primary, hedge_after=2.0), route(local, 1, typical=0.3)], h.context())
    assert result.route.index == 0 and local.calls == []


async def test_when_the_hedge_fails_the_primary_still_answers():
    h = Harness()
    primary = ScriptedProvider("gemini", default=Step(4.0))
    backup = ScriptedProvider("openai", default=Step(0.5, FailureKind.CONTENT_REJECTED))
    start = h.now()
    result = await run_routes([route(primary, hedge_after=2.0), route(backup, 1, typical=0.5)], h.context())
    assert result.route.index == 0 and h.now() - start == pytest.approx(4.0)


async def test_a_hung_route_opens_after_one_full_timeout_and_no_later_guest_waits_on_it():
    h = Harness(probe_interval=30)
    primary = ScriptedProvider("gemini", default=Step(None))
    local = ScriptedProvider("local", default=Step(0.3))
    routes = [route(primary, attempt_timeout=12), route(local, 1, typical=0.3)]
    await run_routes(routes, h.context())  # the first guest waits the attempt timeout
    assert (await h.health.snapshot(["gemini:m1"]))["gemini:m1"].state == "open"
    for _ in range(5):  # later guests: straight to the fallback
        start = h.now()
        result = await run_routes(routes, h.context())
        assert h.now() - start == pytest.approx(0.3)
        assert (result.attempts[0].outcome, result.attempts[0].failure_code) == ("skipped", "circuit_open")
    assert len(primary.calls) == 1


async def test_an_open_route_is_probed_once_per_interval_off_the_guests_path():
    h = Harness(probe_interval=30)
    primary = ScriptedProvider("gemini", default=Step(None))
    local = ScriptedProvider("local", default=Step(0.3))
    routes = [route(primary, attempt_timeout=12), route(local, 1, typical=0.3)]
    await run_routes(routes, h.context())  # opens at t≈12
    calls_before = len(primary.calls)
    for _ in range(30):  # a guest every 2 s for 60 s
        start = h.now()
        await run_routes(routes, h.context())
        assert h.now() - start == pytest.approx(0.3)  # a probe never delays the guest
        await _sleep(1.7)
    await h.health.drain()
    probes = len(primary.calls) - calls_before
    assert 1 <= probes <= 2  # at most one call per 30 s interval


async def test_a_successful_probe_closes_the_circuit():
    h = Harness(probe_interval=30)
    primary = ScriptedProvider("gemini", steps=[Step(None)], default=Step(1.0))
    local = ScriptedProvider("local", default=Step(0.3))
    routes = [route(primary, attempt_timeout=12), route(local, 1, typical=0.3)]
    await run_routes(routes, h.context())
    await _sleep(31)
    guest = await run_routes(routes, h.context())  # claims the probe, answered by the fallback
    assert guest.route.index == 1
    await h.health.drain()
    assert (await h.health.snapshot(["gemini:m1"]))["gemini:m1"].state == "closed"
    assert (await run_routes(routes, h.context())).route.index == 0


async def test_when_every_route_is_open_the_answer_is_immediate():
    h = Harness()
    primary = ScriptedProvider("gemini", default=Step(None))
    with pytest.raises(RunFailed):
        await run_routes([route(primary, attempt_timeout=12)], h.context(20))
    start = h.now()
    with pytest.raises(RunFailed) as failed:
        await run_routes([route(primary, attempt_timeout=12)], h.context(20))
    assert failed.value.failure.code == "circuit_open" and h.now() - start == pytest.approx(0)


async def test_three_server_errors_in_a_row_open_the_circuit_but_a_success_between_resets_it():
    h = Harness(threshold=3)
    provider = ScriptedProvider(
        steps=[Step(0.1, FailureKind.SERVER_ERROR), Step(0.1, FailureKind.SERVER_ERROR), Step(0.1)],
        default=Step(0.1, FailureKind.SERVER_ERROR),
    )
    await run_routes([route(provider)], h.context())
    assert (await h.health.snapshot(["fake:m1"]))["fake:m1"].failures == 0
    with pytest.raises(RunFailed):
        await run_routes([route(provider)], h.context(5))
    assert (await h.health.snapshot(["fake:m1"]))["fake:m1"].state == "open"


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


async def test_a_last_route_answering_garbage_is_not_hammered_until_the_deadline():
    h = Harness(threshold=3)
    provider = ScriptedProvider(default=Step(0.1, FailureKind.UNEXPECTED_RESPONSE))
    start = h.now()
    with pytest.raises(RunFailed):
        await run_routes([route(provider)], h.context(48))
    assert len(provider.calls) == 3 and h.now() - start < 2  # the circuit opened: stop, answer now


async def test_no_image_on_the_last_route_is_tried_a_bounded_number_of_times():
    h = Harness()
    provider = ScriptedProvider(default=Step(1.0, FailureKind.NO_IMAGE))
    with pytest.raises(RunFailed) as failed:
        await run_routes([route(provider)], h.context(48))
    assert len(provider.calls) == 8 and failed.value.failure.kind is FailureKind.NO_IMAGE


async def test_one_slots_slow_prompt_opens_only_that_slots_circuit_of_the_route():
    h = Harness(probe_interval=30)
    slow = ScriptedProvider("gemini", default=Step(None))  # slot A's prompt makes the model hang
    fast = ScriptedProvider("gemini", default=Step(2.0))  # the same model for slot B answers
    local = ScriptedProvider("local", default=Step(0.3))
    slot_a = [route(slow, attempt_timeout=12, scope="slot-a"), route(local, 1, typical=0.3, scope="slot-a")]
    slot_b = [route(fast, attempt_timeout=12, scope="slot-b"), route(local, 1, typical=0.3, scope="slot-b")]
    assert (await run_routes(slot_a, h.context())).route.index == 1  # slot A's first guest waits 12 s
    for _ in range(20):  # every guest of slot B still gets the primary; slot A's go to local at once
        assert (await run_routes(slot_b, h.context())).route.index == 0
        start = h.now()
        assert (await run_routes(slot_a, h.context())).route.index == 1 and h.now() - start == pytest.approx(0.3)
    await h.health.drain()
    states = await h.health.snapshot(["gemini:m1", "gemini:m1@slot-a", "gemini:m1@slot-b"])
    assert [states[k].state for k in states] == ["closed", "open", "closed"]


async def test_a_hung_provider_opens_the_route_after_full_timeouts_from_two_slots():
    h = Harness(probe_interval=30)
    hung = ScriptedProvider("gemini", default=Step(None))
    local = ScriptedProvider("local", default=Step(0.3))
    slots = {s: [route(hung, attempt_timeout=12, scope=s), route(local, 1, typical=0.3, scope=s)] for s in "abc"}
    await run_routes(slots["a"], h.context())  # the first guest (slot a) waits the attempt timeout
    await run_routes(slots["b"], h.context())  # the second (slot b) too: now the route itself is open
    assert (await h.health.snapshot(["gemini:m1"]))["gemini:m1"].state == "open"
    start = h.now()
    result = await run_routes(slots["c"], h.context())  # a third slot never waits on it
    assert result.route.index == 1 and h.now() - start == pytest.approx(0.3)
    assert len(hung.calls) == 2


async def test_a_hung_primary_behind_a_hedge_costs_one_guest_the_hedge_delay_not_one_per_guest():
    h = Harness(probe_interval=30)
    primary = ScriptedProvider("gemini", default=Step(None))
    local = ScriptedProvider("local", default=Step(0.3))
    routes = [route(primary, hedge_after=6.0, attempt_timeout=12, scope="s"), route(local, 1, typical=0.3, scope="s")]
    start = h.now()
    await run_routes(routes, h.context())
    assert h.now() - start == pytest.approx(6.3)  # the first guest: hedge delay, then local
    waits = []
    for _ in range(40):  # back to back for a minute
        start = h.now()
        await run_routes(routes, h.context())
        waits.append(h.now() - start)
        await _sleep(1.2)
    assert max(waits) == pytest.approx(0.3)  # nobody else waits on the hung route, probes included
    await h.health.drain()
    assert 2 <= len(primary.calls) <= 4  # the first guest's, then one probe per 30 s interval


async def test_a_route_without_a_circuit_breaker_never_gets_one():
    from photochanger.routing.router import probe
    from tests.routing.conftest import Harness, ScriptedProvider, Step, route

    h = Harness()
    local = ScriptedProvider("local", default=Step(0.01, FailureKind.SERVER_ERROR))
    local.circuit_breaker = False
    await probe(route(local, scope="slot-001"), h.context())  # a warm-up that fails
    assert await h.health.all() == []


async def test_on_start_runs_before_each_call_and_on_record_sees_each_record_as_it_is_made():
    h = Harness()
    provider = ScriptedProvider(steps=[Step(2, FailureKind.SERVER_ERROR), Step(3)])
    events: list[tuple[str, float, object]] = []
    context = h.context()

    async def on_start(route_, started_at) -> None:
        events.append(("start", h.now(), len(provider.calls)))  # before the provider saw the call

    context.on_start = on_start
    context.on_record = lambda record: events.append(("record", h.now(), record.outcome))
    start = h.now()
    result = await run_routes([route(provider)], context)
    assert [(kind, what) for kind, _at, what in events] == [
        ("start", 0),
        ("record", "failed"),
        ("start", 1),
        ("record", "success"),
    ]
    assert events[1][1] - start == pytest.approx(2) and events[3][1] - events[2][1] == pytest.approx(3)
    assert [a.outcome for a in result.attempts] == ["failed", "success"]


async def test_a_probe_on_an_open_route_is_not_recorded_on_the_guests_job():
    h = Harness(threshold=1)
    primary, local = ScriptedProvider("gemini", default=Step(0.5, FailureKind.SERVER_ERROR)), ScriptedProvider("local")
    routes = [route(primary), route(local, 1, typical=0.3)]
    await run_routes(routes, h.context())  # opens the primary's circuit
    await _sleep(31)  # a probe is due
    calls, seen = len(primary.calls), []
    context = h.context()
    context.on_start = None
    context.on_record = lambda record: seen.append(record.outcome)
    result = await run_routes(routes, context)
    assert result.route.index == 1
    await h.health.drain()  # the background probe ran, with this photo
    assert len(primary.calls) == calls + 1
    assert seen == ["skipped", "success"]


async def test_a_route_the_spend_cap_refuses_is_skipped_without_a_call_or_a_mark_on_its_health():
    from photochanger.providers.base import ProviderFailure

    h = Harness(threshold=1)
    paid, local = ScriptedProvider("gemini", default=Step(1)), ScriptedProvider("local", default=Step(0.3))
    context = h.context()

    async def on_start(route_, _started_at) -> None:
        if route_.provider.name == "gemini":
            raise ProviderFailure(FailureKind.BUDGET_EXHAUSTED, "budget_exhausted", "the cap is reached")

    context.on_start = on_start
    start = h.now()
    result = await run_routes([route(paid), route(local, 1, typical=0.3)], context)
    assert result.route.index == 1 and h.now() - start == pytest.approx(0.3)  # no wait, no retry
    assert not paid.calls
    assert [(a.outcome, a.failure_code) for a in result.attempts] == [
        ("skipped", "budget_exhausted"),
        ("success", None),
    ]
    states = await h.health.snapshot([route(paid).key])
    assert all(s.admits_guests() for s in states.values())  # one refusal (threshold 1) opened nothing
