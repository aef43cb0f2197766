"""Route health stores and the key ring: the circuit shared through the database (one probe per
interval across processes), keys set aside and taken back on the clock."""

import asyncio
import uuid

import pytest

from photochanger.clock import Clock
from photochanger.providers.base import FailureKind, ProviderFailure
from photochanger.routing.breaker import BreakerPolicy
from photochanger.routing.health import DatabaseStateStore, KeyRing, RouteHealth

TIMEOUT = ProviderFailure(FailureKind.TIMEOUT, "timeout", "no answer")


@pytest.mark.looptime
@pytest.mark.asyncio(loop_scope="function")
async def test_a_refused_key_is_set_aside_then_used_again():
    ring = KeyRing(Clock(), aside=600)
    keys = ["k1", "k2", "k3"]
    assert sorted(ring.pick(keys) for _ in range(3)) == keys  # round robin
    ring.set_aside("k2")
    assert ring.usable(keys) == 2 and "k2" not in {ring.pick(keys) for _ in range(6)}
    await asyncio.sleep(600)
    assert ring.usable(keys) == 3
    for key in keys:
        ring.set_aside(key)
        await asyncio.sleep(1)
    assert ring.pick(keys) == "k1"  # all aside: the one set aside longest ago


async def test_the_circuit_is_shared_and_probed_once_across_processes(service):
    policy = BreakerPolicy(threshold=3, probe_interval=0.5)
    first, second = (RouteHealth(DatabaseStateStore(service.db), policy, Clock()) for _ in range(2))
    key = f"gemini:test-{uuid.uuid4().hex[:8]}"
    await first.record(key, TIMEOUT, outage=True, full_timeout=True)
    assert (await second.snapshot([key]))[key].state == "open"  # the other process skips it too
    await asyncio.sleep(0.6)
    claims = await asyncio.gather(*(h.claim_probe(key) for h in (first, second, first, second)))
    assert claims.count(True) == 1  # one probe per interval, whoever asks
    await second.record(key, None)
    assert (await first.snapshot([key]))[key].state == "closed"


async def test_concurrent_failures_of_a_new_route_are_all_counted(service):
    health = RouteHealth(DatabaseStateStore(service.db), BreakerPolicy(threshold=10), Clock())
    key = f"openai:test-{uuid.uuid4().hex[:8]}"
    failure = ProviderFailure(FailureKind.SERVER_ERROR, "http_503")
    await asyncio.gather(*(health.record(key, failure, outage=True) for _ in range(5)))
    assert (await health.snapshot([key]))[key].failures == 5
