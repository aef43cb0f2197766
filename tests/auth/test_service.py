"""Password hashing cost (PHOTOCHANGER_PASSWORD_HASH_COST): a login re-hashes a password stored at
another cost, so a database that was used with the test suite's minimal cost gains standard hashes."""

import uuid
from datetime import timedelta

from argon2 import extract_parameters, profiles

from photochanger.auth import repository
from photochanger.auth import service as auth
from photochanger.clock import SYSTEM_CLOCK
from photochanger.throttle.service import SlidingWindow
from tests.conftest import MINIMAL_HASHER


def _throttle() -> auth.LoginThrottle:
    return auth.LoginThrottle(
        pairs=SlidingWindow(SYSTEM_CLOCK, auth.MAX_FAILURES, 900), ips=SlidingWindow(SYSTEM_CLOCK, 30, 900)
    )


async def _stored_hash(db, username: str) -> str:
    async with db.transaction() as session:
        admin = await repository.get_admin(session, username)
    assert admin is not None
    return admin.password_hash


async def _login(db, username: str, password: str, cost: str):
    hashing = auth.password_hashing(cost)
    try:
        return await auth.login(db, "s" * 32, timedelta(hours=1), username, password, "10.9.0.1", _throttle(), hashing)
    finally:
        hashing.pool.shutdown()


async def test_a_login_under_standard_cost_replaces_a_minimal_hash(service):
    user = f"h{uuid.uuid4().hex[:8]}"
    await auth.create_admin(service.db, user, "minimal-password", MINIMAL_HASHER)
    assert extract_parameters(await _stored_hash(service.db, user)).memory_cost == profiles.CHEAPEST.memory_cost
    assert (await _login(service.db, user, "minimal-password", "standard")).access_token
    stored = extract_parameters(await _stored_hash(service.db, user))
    assert (stored.memory_cost, stored.time_cost) == (65536, 3)  # RFC 9106's second recommended option
    assert (await _login(service.db, user, "minimal-password", "standard")).access_token  # and it verifies


def test_standard_is_the_default_cost():
    from photochanger.config import Config

    assert Config(_env_file=None).password_hash_cost == "standard"  # pyright: ignore[reportCallIssue]
    assert auth.password_hashing().hasher is auth.PASSWORD_HASHERS["standard"]
