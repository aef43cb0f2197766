"""Login, bearer tokens, logout and throttling over HTTP."""

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from photochanger.auth import service as auth
from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, MINIMAL_HASHER
from tests.tools.processes import allowed


@pytest.mark.database_independent
def test_login_gives_a_jwt_that_opens_the_api(service):
    r = service.login(ADMIN_USER, ADMIN_PASSWORD)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 168 * 3600
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == ADMIN_USER and {"iat", "exp", "jti"} <= set(claims)
    ok = service.http.get("/api/slots", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert ok.status_code == 200 and len(ok.json()) == 15


@pytest.mark.database_independent
def test_api_refuses_missing_bad_and_expired_tokens(service):
    missing = service.http.get("/api/slots")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.json()["failure_reason"] == "unauthorized"
    bad = service.http.get("/api/jobs", headers={"Authorization": "Bearer not.a.jwt"})
    assert bad.status_code == 401 and "invalid_token" in bad.headers["www-authenticate"]
    secret = (service.data_dir / "jwt.secret").read_text().strip()
    assert oct((service.data_dir / "jwt.secret").stat().st_mode & 0o777) == "0o600"
    expired = auth.issue_token(secret, ADMIN_USER, timedelta(seconds=-5)).access_token
    r = service.http.get("/api/settings", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401
    forged = auth.issue_token(
        "another-secret-that-is-long-enough-for-hs256", ADMIN_USER, timedelta(hours=1)
    ).access_token
    assert service.http.get("/api/settings", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


@pytest.mark.database_independent
def test_logout_revokes_the_token(service):
    token = service.login(ADMIN_USER, ADMIN_PASSWORD).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert service.http.post("/api/logout", headers=headers).status_code == 204
    assert service.http.get("/api/slots", headers=headers).status_code == 401


def test_wrong_password_is_401_and_throttled_per_username_and_ip(service):
    user = f"t{uuid.uuid4().hex[:8]}"
    service.cli("admin", "create", user, "--password", "right-password-1")
    for _ in range(10):
        r = service.login(user, "wrong", ip="10.9.0.1")
        assert r.status_code == 401 and r.json()["failure_reason"] == "invalid_credentials"
    blocked = service.login(user, "right-password-1", ip="10.9.0.1")
    assert blocked.status_code == 429 and blocked.json()["failure_reason"] == "login_throttled"
    assert 850 <= int(blocked.headers["retry-after"]) <= 901
    assert service.login(user, "right-password-1", ip="10.9.0.2").status_code == 200  # another IP: not locked out


def test_failures_spread_over_many_ips_do_not_lock_the_admin_out(service):
    user = f"t{uuid.uuid4().hex[:8]}"
    service.cli("admin", "create", user, "--password", "right-password-2")
    for n in range(25):
        assert service.login(user, "guess", ip=f"10.8.0.{n}").status_code == 401
    assert service.login(user, "right-password-2", ip="10.8.1.1").status_code == 200


@pytest.mark.database_independent
def test_disabled_account_and_password_change_end_sessions(service):
    user = f"t{uuid.uuid4().hex[:8]}"
    assert service.cli("admin", "create", user, "--password", "first-password").returncode == 0
    token = service.login(user, "first-password").json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert service.http.get("/api/slots", headers=headers).status_code == 200
    assert service.cli("admin", "passwd", user, "--password", "second-password").returncode == 0
    assert service.http.get("/api/slots", headers=headers).status_code == 401
    assert service.login(user, "second-password").status_code == 200
    assert service.cli("admin", "disable", user).returncode == 0
    assert service.login(user, "second-password").status_code == 401
    listing = service.cli("admin", "list").stdout
    assert user in listing and "disabled" in listing
    short = service.cli("admin", "create", "x" + user, "--password", "short")
    assert short.returncode == 2 and "at least 8" in short.stderr


@pytest.mark.database_independent
async def test_login_logs_have_no_password(svc):
    svc.login(ADMIN_USER, "not-the-password-xyz")
    log = svc.log_path.read_text()
    assert '"auth.login.failure"' in log and "not-the-password-xyz" not in log and ADMIN_PASSWORD not in log


def test_parallel_guesses_are_counted_before_any_password_check(service):
    from concurrent.futures import ThreadPoolExecutor

    user = f"t{uuid.uuid4().hex[:8]}"
    service.cli("admin", "create", user, "--password", "right-password-3")
    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(lambda _: service.login(user, "wrong", ip="10.7.0.1").status_code, range(40)))
    assert codes.count(401) <= 10 and set(codes) <= {401, 429}  # at most 10 checked, however parallel


def test_a_login_flood_with_random_usernames_neither_blocks_booths_nor_checks_unbounded(service):
    from concurrent.futures import ThreadPoolExecutor

    flood_ip = f"10.6.{uuid.uuid4().int % 250}.1"
    local = {
        "provider": "local",
        "settings": {},
        "prompt": "",
        "is_active": True,
        "fallbacks": [],
        "on_failure": "error",
    }
    assert service.api.put("/api/slots/slot-001", json=local).status_code == 200

    def guess(n: int) -> int:
        return service.login(f"nobody{n}-{uuid.uuid4().hex[:6]}", "x" * 12, ip=flood_ip).status_code

    with ThreadPoolExecutor(20) as pool:
        flood = pool.map(guess, range(80))
        booth = [service.post("slot-001") for _ in range(5)]  # the seeded local slot, beside the flood
        codes = list(flood)
    assert set(codes) <= {401, 429} and codes.count(401) <= 30  # per-IP limit before any hashing
    assert [r.status for r in booth] == [200] * 5
    assert max(r.elapsed for r in booth) < allowed(5)  # the event loop keeps serving booths


async def test_a_token_issued_in_the_same_second_as_a_password_change_is_revoked(service):
    user = f"t{uuid.uuid4().hex[:8]}"
    await auth.create_admin(service.db, user, "first-password", MINIMAL_HASHER)
    token = service.login(user, "first-password").json()["access_token"]
    await auth.set_password(service.db, user, "second-password", MINIMAL_HASHER)  # well within the same second
    answer = service.http.get("/api/slots", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401  # iat and the change compared at full precision, not whole seconds


async def test_revocation_and_lock_outs_do_not_depend_on_the_clock_running_forward(service):
    from sqlalchemy import update

    from photochanger.auth.models import Admin
    from photochanger.throttle.models import ThrottleEvent

    user = f"c{uuid.uuid4().hex[:8]}"
    await auth.create_admin(service.db, user, "first-password", MINIMAL_HASHER)
    await auth.set_password(service.db, user, "second-password", MINIMAL_HASHER)
    ahead = datetime.now(UTC) + timedelta(hours=1)
    async with service.db.transaction() as session:  # the change was made while the clock ran an hour fast
        await session.execute(update(Admin).where(Admin.username == user).values(password_changed_at=ahead))
    token = service.login(user, "second-password").json()["access_token"]  # NTP has stepped the clock back
    answer = service.http.get("/api/slots", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text  # a token of the current generation is valid
    ip = f"10.77.{uuid.uuid4().int % 250}.9"
    if service.db.engine.dialect.name == "postgresql":  # failures in the database, dated by the fast clock
        async with service.db.transaction() as session:
            session.add_all(ThrottleEvent(scope="login_pair", key=f"{user}\0{ip}", at=ahead) for _ in range(20))
    assert service.login(user, "second-password", ip=ip).status_code == 200  # no lock-out past its Retry-After
    await auth.set_password(service.db, user, "third-password", MINIMAL_HASHER)
    revoked = service.http.get("/api/slots", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401  # the next generation: every earlier token revoked
