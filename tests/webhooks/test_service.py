"""The photo webhook's rules without a network: the signature receivers check, the retry schedule
that bridges a receiver's outage, and the addresses a webhook may not reach."""

import itertools
import random

import pytest

from photochanger.webhooks.service import (
    MAX_RETRY_SECONDS,
    RETRY_FOR,
    TargetRefused,
    check_target,
    retry_delay,
    sign,
    verify,
)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body_and_a_receiver_checks_it():
    body = '{"event":"photo.finished","fields":{"survey1":"Анна"}}'
    header = sign("s" * 32, 1_800_000_000, body)
    assert header == "t=1800000000,v1=" + header.split("v1=")[1] and len(header.split("v1=")[1]) == 64
    assert verify("s" * 32, header, body, now=1_800_000_100)
    assert not verify("s" * 32, header, body + " ", now=1_800_000_100)  # the exact bytes
    assert not verify("t" * 32, header, body, now=1_800_000_100)  # another secret
    assert not verify("s" * 32, header, body, now=1_800_000_400)  # a replay after 5 minutes
    assert not verify("s" * 32, "garbage", body, now=1_800_000_000)


def test_retries_double_from_5_s_to_5_min_and_bridge_a_5_minute_outage_within_the_hour():
    rng = random.Random(3)
    at, times = 0.0, []
    attempts = 0
    while at <= RETRY_FOR.total_seconds():
        times.append(at)
        attempts += 1
        at += retry_delay(attempts, rng)
    first = [round(b - a) for a, b in itertools.pairwise(times[:6])]
    assert first == pytest.approx([5, 10, 20, 40, 80], rel=0.11)
    assert max(b - a for a, b in itertools.pairwise(times)) <= MAX_RETRY_SECONDS * 1.1
    back = 300.0  # the receiver is down for the first 5 minutes
    assert min(t for t in times if t >= back) - back <= MAX_RETRY_SECONDS * 1.1  # delivered within ~5 min after
    assert len(times) >= 15  # tried at least 15 times in the hour before giving up


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",  # cloud metadata
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
    ],
)
async def test_loopback_link_local_and_odd_addresses_are_refused(url):
    with pytest.raises(TargetRefused):
        await check_target(url, allow_loopback=False)
    await check_target(url, allow_loopback=True)  # the operator allowed it


async def test_a_lan_address_is_allowed():
    await check_target("http://192.168.1.20/crm", allow_loopback=False)  # a studio's own server
