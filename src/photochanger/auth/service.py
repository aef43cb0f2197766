"""Accounts (argon2id), JWT sessions (HS256, PyJWT) with a database deny-list, login throttling.

Throttling: 10 failed logins of one username from one IP within 15 minutes block that pair for
15 minutes after the last failure. Only the pair is blocked, so failures from many IPs never lock
the real admin out of their own IP. All state is in the database (shared by every process).
"""

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from photochanger.auth import repository
from photochanger.auth.models import Admin
from photochanger.auth.schemas import USERNAME_PATTERN, AdminView, TokenResponse
from photochanger.db import Database, utcnow

log = structlog.get_logger("photochanger.auth")
HASHER = PasswordHasher()
DUMMY_HASH = HASHER.hash("timing-equaliser")  # verified for unknown users so timing does not tell
MAX_FAILURES = 10
BLOCK = timedelta(minutes=15)
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


async def create_admin(db: Database, username: str, password: str) -> AdminView:
    """Add an account. Raises :class:`AccountError` for a bad or taken name or a short password."""
    if not re.match(USERNAME_PATTERN, username):
        raise AccountError("username: 2–64 letters, digits or _.@-")
    _check_password_strength(password)
    now = utcnow()
    admin = Admin(
        username=username, password_hash=HASHER.hash(password), is_active=True, created_at=now, password_changed_at=now
    )
    try:
        async with db.transaction() as session:
            await repository.add_admin(session, admin)
    except IntegrityError:
        raise AccountError(f"admin {username!r} exists") from None
    return AdminView.model_validate(admin)


async def ensure_first_admin(db: Database) -> tuple[str, str] | None:
    """On a fresh install create ``admin`` with a generated password; returns (name, password) then."""
    async with db.transaction() as session:
        if await repository.count_admins(session):
            return None
    password = generate_password()
    try:
        await create_admin(db, "admin", password)
    except AccountError:
        return None  # another process created it first
    return "admin", password


async def set_password(db: Database, username: str, password: str) -> None:
    """Change a password; tokens issued before the change stop working."""
    _check_password_strength(password)
    async with db.transaction() as session:
        admin = await repository.get_admin(session, username)
        if admin is None:
            raise AccountError(f"no admin {username!r}")
        admin.password_hash = HASHER.hash(password)
        admin.password_changed_at = utcnow()


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


async def login(db: Database, secret: str, ttl: timedelta, username: str, password: str, ip: str) -> TokenResponse:
    """Check credentials (throttled per username and IP) and issue a token.

    Raises :class:`AuthError` ``throttled`` (with ``retry_after`` seconds) or ``invalid_credentials``.
    """
    now = utcnow()
    async with db.transaction() as session:
        failures = await repository.recent_failures(session, username, ip, MAX_FAILURES)
        admin = await repository.get_admin(session, username)
    if len(failures) >= MAX_FAILURES and failures[-1] > now - BLOCK:
        retry_after = int((failures[0] + BLOCK - now).total_seconds()) + 1
        log.warning("auth.login.failure", username=username, ip=ip, reason="throttled")
        raise AuthError("throttled", retry_after)
    valid = _verify(admin.password_hash if admin else DUMMY_HASH, password) and admin is not None
    if not valid or not admin.is_active:
        reason = "disabled" if valid else "invalid_credentials"
        async with db.transaction() as session:
            await repository.add_failure(session, username, ip, now)
        log.warning("auth.login.failure", username=username, ip=ip, reason=reason)
        raise AuthError("invalid_credentials")
    async with db.transaction() as session:
        await repository.clear_failures(session, username, ip, older_than=now - 2 * BLOCK)
        stored = await repository.get_admin(session, username)
        stored.last_login_at = now
        if HASHER.check_needs_rehash(stored.password_hash):
            stored.password_hash = HASHER.hash(password)
    log.info("auth.login.success", username=username, ip=ip)
    return issue_token(secret, username, ttl)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(secret: str, username: str, ttl: timedelta) -> TokenResponse:
    """A JWT (HS256) with ``sub``, ``iat``, ``exp`` and a random ``jti``."""
    now = utcnow()
    claims = {"sub": username, "iat": now, "exp": now + ttl, "jti": uuid.uuid4().hex}
    return TokenResponse(
        access_token=jwt.encode(claims, secret, algorithm=ALGORITHM), expires_in=int(ttl.total_seconds())
    )


async def authenticate(db: Database, secret: str, token: str) -> Session:
    """The session of a bearer token. Raises :class:`AuthError` ``invalid_token`` (bad signature,
    expired, malformed), ``revoked`` (logged out or password changed) or ``disabled``."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "iat", "exp", "jti"]})
    except jwt.PyJWTError:
        raise AuthError("invalid_token") from None
    async with db.transaction() as session:
        revoked = await repository.is_revoked(session, claims["jti"])
        admin = await repository.get_admin(session, claims["sub"])
    if admin is None or not admin.is_active:
        raise AuthError("disabled")
    if revoked or claims["iat"] < int(admin.password_changed_at.timestamp()):
        raise AuthError("revoked")
    return Session(admin.username, claims["jti"], datetime.fromtimestamp(claims["exp"], tz=utcnow().tzinfo))


async def logout(db: Database, session_info: Session) -> None:
    """Revoke the token until its expiry; also drops expired deny-list entries."""
    async with db.transaction() as session:
        await repository.revoke(session, session_info.jti, session_info.expires_at)
        await repository.purge_revoked(session, utcnow())
