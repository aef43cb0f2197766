"""Accounts (argon2id), JWT sessions (HS256, PyJWT) with a database deny-list, login throttling.

Throttling: 10 failed logins of one username from one IP, or 30 from one IP with any usernames,
within 15 minutes block further checks. Only the pair (or the one IP) is blocked, so failures from
many IPs never lock the real admin out of their own IP. The windows are
:class:`photochanger.throttle.service.Throttle` stores chosen by the context: rows shared by every
process on PostgreSQL, memory on SQLite (one process), so a login flood writes nothing to the
one-writer database the booths need.
"""

import functools
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
import structlog
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from photochanger.auth import repository
from photochanger.auth.models import Admin
from photochanger.auth.schemas import USERNAME_PATTERN, AdminView, TokenResponse
from photochanger.db import Database, utcnow
from photochanger.throttle.service import Throttle
from photochanger.workers import PoolBusy, WorkerPool

log = structlog.get_logger("photochanger.auth")
PASSWORD_HASHERS: dict[str, PasswordHasher] = {
    # RFC 9106 section 4, the second recommended option (argon2-cffi's default): t=3, m=64 MiB, p=4
    "standard": PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY),
    # argon2-cffi's cheapest valid parameters (t=1, m=8 KiB, p=1): for test suites only (Config.password_hash_cost)
    "minimal": PasswordHasher.from_parameters(profiles.CHEAPEST),
}
STANDARD = PASSWORD_HASHERS["standard"]


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of ``hasher``'s cost verified for unknown usernames, so the time taken does not tell
    whether one exists (made on first use: an argon2 hash costs ~0.2 s of CPU, not paid by every CLI start)."""
    return hasher.hash("timing-equaliser")


MAX_FAILURES = 10  # per (username, IP) within BLOCK
MAX_IP_FAILURES = 30  # per IP, any username, within BLOCK: a flood of random usernames
BLOCK = timedelta(minutes=15)
HASH_WORKERS = 2  # argon2 runs in at most this many worker threads, never on the event loop
HASH_QUEUE = 16  # logins waiting for a worker; more are refused at once (429 login_busy)
MIN_PASSWORD_LENGTH = 8
ALGORITHM = "HS256"


class AuthError(Exception):
    """Login or token refused; ``reason`` is a stable code for logs and clients."""

    def __init__(self, reason: str, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class AccountError(ValueError):
    """An account operation is not possible (name taken, unknown user, weak password…)."""


@dataclass(frozen=True)
class Session:
    """An authenticated request: who, and the token's id and expiry (for logout)."""

    username: str
    jti: str
    expires_at: datetime


def generate_password() -> str:
    """A random password for a new account (about 96 bits)."""
    return secrets.token_urlsafe(12)


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")


async def create_admin(db: Database, username: str, password: str, hasher: PasswordHasher = STANDARD) -> AdminView:
    """Add an account, its password hashed by ``hasher`` (one of :data:`PASSWORD_HASHERS`). Raises
    :class:`AccountError` for a bad or taken name or a short password."""
    if not re.match(USERNAME_PATTERN, username):
        raise AccountError("username: 2–64 letters, digits or _.@-")
    _check_password_strength(password)
    now = utcnow()
    admin = Admin(
        username=username, password_hash=hasher.hash(password), is_active=True, created_at=now, password_changed_at=now
    )
    try:
        async with db.transaction() as session:
            await repository.add_admin(session, admin)
    except IntegrityError:
        raise AccountError(f"admin {username!r} exists") from None
    return AdminView.model_validate(admin)


async def ensure_first_admin(db: Database, hasher: PasswordHasher = STANDARD) -> tuple[str, str] | None:
    """On a fresh install create ``admin`` with a generated password; returns (name, password) then."""
    async with db.transaction() as session:
        if await repository.count_admins(session):
            return None
    password = generate_password()
    try:
        await create_admin(db, "admin", password, hasher)
    except AccountError:
        return None  # another process created it first
    return "admin", password


async def set_password(db: Database, username: str, password: str, hasher: PasswordHasher = STANDARD) -> None:
    """Change a password (hashed by ``hasher``); tokens issued before the change stop working."""
    _check_password_strength(password)
    async with db.transaction() as session:
        admin = await repository.get_admin(session, username)
        if admin is None:
            raise AccountError(f"no admin {username!r}")
        admin.password_hash = hasher.hash(password)
        admin.password_changed_at = utcnow()
        admin.session_generation = (admin.session_generation or 0) + 1  # every earlier token is revoked


async def set_active(db: Database, username: str, active: bool) -> None:
    """Enable or disable an account (a disabled account's tokens stop working at once)."""
    async with db.transaction() as session:
        admin = await repository.get_admin(session, username)
        if admin is None:
            raise AccountError(f"no admin {username!r}")
        admin.is_active = active


async def list_admins(db: Database) -> list[AdminView]:
    """Every account."""
    async with db.transaction() as session:
        return [AdminView.model_validate(a) for a in await repository.list_admins(session)]


@dataclass(frozen=True)
class LoginThrottle:
    """Failed-login windows: per ``username``/IP pair and per IP (:data:`MAX_FAILURES` and
    :data:`MAX_IP_FAILURES` within :data:`BLOCK` in the context's stores)."""

    pairs: Throttle
    ips: Throttle


async def login(
    db: Database,
    secret: str,
    ttl: timedelta,
    username: str,
    password: str,
    ip: str,
    throttle: LoginThrottle,
    hashing: "PasswordHashing",
) -> TokenResponse:
    """Check credentials and issue a token.

    Throttling comes before any hashing and is exact under concurrency: each attempt takes its
    place in both windows of ``throttle`` *first* and a success gives both back, so 40 parallel
    guesses get at most ``MAX_FAILURES`` password checks per (username, IP) and ``MAX_IP_FAILURES``
    per IP. argon2 runs in ``hashing.pool``, a bounded pool of worker threads (:func:`password_hashing`;
    the app's context holds one), so a flood of logins never blocks the event loop that serves the booths.

    Raises :class:`AuthError` ``throttled`` or ``busy`` (with ``retry_after`` seconds) or
    ``invalid_credentials``.
    """
    pair = f"{username}\0{ip}"
    retry_after = await throttle.pairs.reserve(pair)
    if retry_after is None:
        retry_after = await throttle.ips.reserve(ip)
        if retry_after is not None:
            await throttle.pairs.forgive(pair)  # refused unchecked: not a guess
    if retry_after is not None:
        log.warning("auth.login.failure", username=username, ip=ip, reason="throttled")
        raise AuthError("throttled", retry_after)
    async with db.transaction() as session:
        admin = await repository.get_admin(session, username)
    try:
        stored_hash = admin.password_hash if admin else _dummy_hash(hashing.hasher)
        valid = await _off_loop(hashing.pool, _verify, hashing.hasher, stored_hash, password)
        valid = valid and admin is not None
    except AuthError:  # busy: not a guess
        await throttle.pairs.forgive(pair)
        await throttle.ips.forgive(ip)
        raise
    if not valid or admin is None or not admin.is_active:
        reason = "disabled" if valid else "invalid_credentials"
        log.warning("auth.login.failure", username=username, ip=ip, reason=reason)
        raise AuthError("invalid_credentials")  # the reserved places stay: a failure
    await throttle.pairs.forgive(pair)
    await throttle.ips.forgive(ip)
    return await _logged_in(db, secret, ttl, admin, password, ip, hashing)


async def _logged_in(
    db: Database, secret: str, ttl: timedelta, admin: Admin, password: str, ip: str, hashing: "PasswordHashing"
) -> TokenResponse:
    """Record the login (and a hash of the configured cost if the stored one differs) and issue the token."""
    rehash = hashing.hasher.check_needs_rehash(admin.password_hash)
    new_hash = await _off_loop(hashing.pool, hashing.hasher.hash, password) if rehash else None
    async with db.transaction(write=True) as session:
        stored = await repository.get_admin(session, admin.username)
        if stored is None:  # deleted while its password was checked
            raise AuthError("invalid_credentials")
        stored.last_login_at = utcnow()
        if new_hash:
            stored.password_hash = new_hash
    log.info("auth.login.success", username=admin.username, ip=ip)
    return issue_token(secret, admin.username, ttl, stored.session_generation or 0)


@dataclass(frozen=True)
class PasswordHashing:
    """How logins check passwords: ``hasher`` (one of :data:`PASSWORD_HASHERS`) run in ``pool``."""

    hasher: PasswordHasher
    pool: WorkerPool


def password_hashing(cost: str = "standard") -> PasswordHashing:
    """argon2 of ``cost`` (a key of :data:`PASSWORD_HASHERS`) in a bounded pool of :data:`HASH_WORKERS`
    threads with :data:`HASH_QUEUE` waiting (one per app: its turns belong to the event loop that uses it)."""
    return PasswordHashing(PASSWORD_HASHERS[cost], WorkerPool("argon2", HASH_WORKERS, HASH_QUEUE))


async def _off_loop(pool: WorkerPool, fn, *args):
    """``fn(*args)`` (argon2 hashing or verification) in ``pool``; AuthError ``busy`` when full."""
    try:
        return await pool.run(fn, *args)
    except PoolBusy as busy:
        raise AuthError("busy", busy.retry_after) from None


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(secret: str, username: str, ttl: timedelta, generation: int = 0) -> TokenResponse:
    """A JWT (HS256) with ``sub``, ``iat``, ``exp``, a random ``jti`` and ``gen``: the account's
    session generation (revocation by a password change does not read the clock, so a clock that
    NTP steps back revokes nothing it should not)."""
    now = utcnow()
    claims = {"sub": username, "iat": now.timestamp(), "exp": now + ttl, "jti": uuid.uuid4().hex, "gen": generation}
    return TokenResponse(
        access_token=jwt.encode(claims, secret, algorithm=ALGORITHM), expires_in=int(ttl.total_seconds())
    )


async def authenticate(db: Database, secret: str, token: str) -> Session:
    """The session of a bearer token. Raises :class:`AuthError` ``invalid_token`` (bad signature,
    expired, malformed), ``revoked`` (logged out or password changed) or ``disabled``."""
    try:
        claims = jwt.decode(  # iat is not checked against the clock: after a step back it is "in the future"
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "iat", "exp", "jti"], "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise AuthError("invalid_token") from None
    async with db.transaction() as session:
        revoked = await repository.is_revoked(session, claims["jti"])
        admin = await repository.get_admin(session, claims["sub"])
    if admin is None or not admin.is_active:
        raise AuthError("disabled")
    if revoked or claims.get("gen", 0) != (admin.session_generation or 0):
        raise AuthError("revoked")
    return Session(admin.username, claims["jti"], datetime.fromtimestamp(claims["exp"], tz=utcnow().tzinfo))


async def logout(db: Database, session_info: Session) -> None:
    """Revoke the token until its expiry; also drops expired deny-list entries."""
    async with db.transaction() as session:
        await repository.revoke(session, session_info.jti, session_info.expires_at)
        await repository.purge_revoked(session, utcnow())
