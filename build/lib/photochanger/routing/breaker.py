"""The circuit breaker of one route (``provider:model``), as pure transitions over a state value.

States (the standard circuit-breaker terms):

* ``closed``: guests use the route. ``failures`` counts outage-type failures in a row (timeouts,
  5xx, connection errors, unexpected answers, exhausted quota); a success resets it. The circuit
  opens after ``threshold`` of them, or at once after one *full* timeout (an attempt that used its
  whole attempt timeout): a hang is the failure that costs guests the most time, so no second
  guest is sent into it.

Circuits come in two scopes. A route's own circuit (``provider:model``) opens for an outage: hard
failures in a row, or full timeouts from **two different slots** with no success between them
(``slow_scope`` remembers the slot of the last one). One slot's prompt that makes the model slow
therefore does not close the route for the other slots: it opens only that slot's circuit of the
route (``provider:model@slot-004``), which a single full timeout opens at once.
* ``open``: no guest waits on the route. Every ``probe_interval`` seconds one probe may be claimed.
* ``half_open``: a probe is running (a real request off the guest's path). Its success closes the
  circuit; its failure opens it again for another interval.

Times are timezone-aware UTC datetimes so that several processes sharing the state in the
database agree; every function takes ``now`` instead of reading a clock.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

State = Literal["closed", "open", "half_open"]


@dataclass(frozen=True)
class BreakerPolicy:
    """``threshold``: outage failures in a row that open the circuit; ``probe_interval``: seconds
    between probes of an open route (at most one provider call per interval); ``probe_timeout``:
    seconds after which a claimed probe that never reported is considered lost."""

    threshold: int = 3
    probe_interval: float = 30.0
    probe_timeout: float = 90.0


@dataclass(frozen=True)
class BreakerState:
    """One route's circuit. ``changed_at``: when ``state`` last changed; ``probe_at``: when the last
    probe was claimed (or the circuit opened); ``reason``: the failure that opened it."""

    route_key: str
    state: State = "closed"
    failures: int = 0
    changed_at: datetime | None = None
    probe_at: datetime | None = None
    reason: str | None = None
    slow_scope: str | None = None  # the slot whose attempt last used its whole timeout, since a success

    def admits_guests(self) -> bool:
        """True when guests may be sent to this route."""
        return self.state == "closed"

    def probe_due(self, now: datetime, policy: BreakerPolicy) -> bool:
        """True when a probe may be claimed now (open for an interval, or a probe lost)."""
        if self.state == "closed" or self.probe_at is None:
            return False
        wait = policy.probe_interval if self.state == "open" else policy.probe_timeout
        return now - self.probe_at >= timedelta(seconds=wait)


def after_success(state: BreakerState, now: datetime) -> BreakerState:
    """The state after a successful attempt or probe: closed, no failures."""
    if state.state == "closed" and state.failures == 0 and state.slow_scope is None:
        return state
    changed = now if state.state != "closed" else state.changed_at
    return replace(state, state="closed", failures=0, changed_at=changed, probe_at=None, reason=None, slow_scope=None)


def after_failure(
    state: BreakerState,
    now: datetime,
    policy: BreakerPolicy,
    reason: str,
    *,
    outage: bool,
    full_timeout: bool,
    scope: str | None = None,
) -> BreakerState:
    """The state after a failed attempt. ``outage``: the failure is evidence the route is down;
    ``full_timeout``: the attempt timed out after its whole attempt timeout. ``scope``: the slot
    the attempt was for, given for a route's own circuit: a full timeout then opens it at once only
    when another slot's full timeout came before it (since the last success), else it counts as
    one failure. Without ``scope`` (a slot's circuit of a route) a full timeout opens at once.
    A failure that is not an outage (a content block, NO_IMAGE) proves the provider answers, so it
    counts like a success for the circuit."""
    if not outage:
        return after_success(state, now)
    failures = state.failures + 1
    slow_elsewhere = state.slow_scope is not None and state.slow_scope != scope
    opens_now = full_timeout and (scope is None or slow_elsewhere)
    slow_scope = scope if full_timeout and scope is not None else state.slow_scope
    if state.state == "half_open" or opens_now or failures >= policy.threshold:
        changed = now if state.state != "open" else state.changed_at
        return replace(
            state,
            state="open",
            failures=failures,
            changed_at=changed,
            probe_at=now,
            reason=reason,
            slow_scope=slow_scope,
        )
    return replace(state, failures=failures, slow_scope=slow_scope)


def suspect(state: BreakerState, now: datetime) -> BreakerState:
    """A closed circuit made half-open at once, its probe claimed now (a hedge was lost: guests
    stay off the route until the probe says whether it was one slow answer or a hang); any other
    state is returned unchanged."""
    return claim_probe(state, now) if state.state == "closed" else state


def claim_probe(state: BreakerState, now: datetime) -> BreakerState:
    """The state once a probe has been claimed: half-open, ``probe_at`` now."""
    changed = now if state.state != "half_open" else state.changed_at
    return replace(state, state="half_open", probe_at=now, changed_at=changed)
