"""Circuit-breaker transitions as pure functions of (state, outcome, time)."""

from datetime import UTC, datetime, timedelta

from photochanger.routing.breaker import BreakerPolicy, BreakerState, after_failure, after_success, claim_probe

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
POLICY = BreakerPolicy(threshold=3, probe_interval=30, probe_timeout=90)


def _fail(state: BreakerState, at: datetime, *, outage: bool = True, full_timeout: bool = False) -> BreakerState:
    return after_failure(state, at, POLICY, "server_error: http_503", outage=outage, full_timeout=full_timeout)


def test_threshold_outages_in_a_row_open_the_circuit():
    state = BreakerState("gemini:m")
    for n in range(1, 3):
        state = _fail(state, T0)
        assert (state.state, state.failures) == ("closed", n)
    state = _fail(state, T0)
    assert state.state == "open" and state.probe_at == T0 and state.changed_at == T0 and "503" in state.reason


def test_one_full_timeout_opens_at_once():
    state = _fail(BreakerState("gemini:m"), T0, full_timeout=True)
    assert state.state == "open" and state.failures == 1


def test_answers_that_are_not_outages_count_like_successes():
    state = _fail(_fail(BreakerState("gemini:m"), T0), T0)
    assert state.failures == 2
    assert _fail(state, T0, outage=False).failures == 0


def test_a_probe_is_due_once_per_interval_and_a_lost_probe_is_reclaimed():
    opened = _fail(BreakerState("gemini:m"), T0, full_timeout=True)
    assert not opened.admits_guests()
    assert not opened.probe_due(T0 + timedelta(seconds=29), POLICY)
    assert opened.probe_due(T0 + timedelta(seconds=30), POLICY)
    probing = claim_probe(opened, T0 + timedelta(seconds=30))
    assert probing.state == "half_open" and not probing.admits_guests()
    assert not probing.probe_due(T0 + timedelta(seconds=60), POLICY)
    assert probing.probe_due(T0 + timedelta(seconds=120), POLICY)  # the prober died: reclaim after 90 s


def test_a_probe_decides_the_circuit():
    probing = claim_probe(_fail(BreakerState("gemini:m"), T0, full_timeout=True), T0 + timedelta(seconds=30))
    closed = after_success(probing, T0 + timedelta(seconds=31))
    assert closed.admits_guests() and closed.failures == 0 and closed.reason is None
    reopened = _fail(probing, T0 + timedelta(seconds=40))
    assert reopened.state == "open" and reopened.probe_at == T0 + timedelta(seconds=40)


def test_a_success_on_a_healthy_route_changes_nothing():
    state = BreakerState("gemini:m")
    assert after_success(state, T0) is state
