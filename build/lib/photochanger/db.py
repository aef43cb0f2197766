"""Database engine, session factory and the declarative base shared by every ``models.py``.

Transactions are short and explicit: callers open ``async with db.transaction() as session`` around
the queries of one step and never across a provider call or any other network wait.
"""

import asyncio
import contextlib
import json
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import cast

import structlog
from sqlalchemy import CursorResult, DateTime, MetaData, Result, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from photochanger.clock import wall_now

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base; the metadata is what Alembic migrations describe."""

    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use photochanger.db.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def rows_affected(result: Result) -> int:
    """How many rows an ``UPDATE``/``DELETE`` matched (the DB-API ``rowcount``; 0 when unknown).
    ``session.execute`` is typed as returning a :class:`~sqlalchemy.Result`; a DML statement's is a
    :class:`~sqlalchemy.CursorResult`, which has the count."""
    return cast(CursorResult, result).rowcount or 0


def dialect_name(session: AsyncSession) -> str:
    """``"sqlite"`` or ``"postgresql"``: the backend of ``session``'s engine."""
    return session.get_bind().dialect.name


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (:func:`photochanger.clock.wall_now`)."""
    return wall_now()


LOCK_TIMEOUT_SECONDS = 5  # like SQLite's busy timeout below
log = structlog.get_logger("photochanger.db")

# Text PostgreSQL refuses in a UTF8 database (NUL: "invalid byte sequence for encoding UTF8: 0x00")
# and that UTF-8 cannot encode at all (lone surrogates, e.g. from a header decoded with surrogateescape).
_REFUSED_TEXT = re.compile("[\x00\ud800-\udfff]")


def clean_text(value):
    """``value`` with every string in it (also inside lists, tuples and dict keys and values) made
    storable: NUL removed, lone surrogates replaced by U+FFFD. Other values are returned as they are.
    Applied to every statement parameter and every JSON value written (one place for all tables)."""
    if isinstance(value, str):
        return _REFUSED_TEXT.sub(_replacement, value) if _REFUSED_TEXT.search(value) else value
    if isinstance(value, dict):  # rebuilt only when something in it changed (every statement passes here)
        pairs = [(clean_text(k), clean_text(v)) for k, v in value.items()]
        same = all(ck is k and cv is v for (ck, cv), (k, v) in zip(pairs, value.items(), strict=True))
        return value if same else dict(pairs)
    if isinstance(value, list | tuple):
        items = [clean_text(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else type(value)(items)
    return value


def _replacement(match: re.Match[str]) -> str:
    return "" if match.group() == "\x00" else "\ufffd"


def _json_dumps(value) -> str:
    return json.dumps(clean_text(value))


def _clean_parameters(_conn, _cursor, statement, parameters, _context, executemany):
    """``before_cursor_execute`` (retval): the statement's parameters through :func:`clean_text`."""
    return statement, clean_text(parameters)


def _connection_errors() -> tuple[type[BaseException], ...]:
    """Errors a driver raises unwrapped while connecting (SQLAlchemy wraps only DB-API errors):
    a refused or reset socket, a DNS failure, and asyncpg's own errors (``CannotConnectNowError``
    while the server starts up or shuts down)."""
    errors: list[type[BaseException]] = [OSError]
    try:
        import asyncpg

        errors += [asyncpg.PostgresError, asyncpg.InterfaceError]
    except ImportError:  # SQLite-only installation
        pass
    return tuple(errors)


CONNECTION_ERRORS = _connection_errors()
#: What a storage fault of the database looks like to a caller of :meth:`Database.transaction`:
#: any DB-API error (unreachable, restarting, locked past its timeout, read-only, corrupt,
#: replaced) or no pooled connection free in time.
STORAGE_ERRORS: tuple[type[Exception], ...] = (DBAPIError, PoolTimeout)


class DatabaseFileReplaced(OperationalError):
    """The SQLite file this process opened is no longer the file at its path (deleted or replaced):
    writes would go to a ghost that vanishes at the next restart, so every transaction is refused."""


class Database:
    """One async engine and its session factory.

    ``url`` is an SQLAlchemy async URL (``sqlite+aiosqlite:///…`` or ``postgresql+asyncpg://…``).
    SQLite runs in WAL mode with a 5 s busy timeout so readers never wait for the one writer;
    PostgreSQL sessions wait at most :data:`LOCK_TIMEOUT_SECONDS` for a row, table or advisory lock
    (``lock_timeout``), so a table locked by someone else fails a request within the deadline
    (503 ``storage_unavailable``) instead of holding it open.

    Every error of the database is a ``sqlalchemy.exc.DBAPIError``: errors a driver raises
    unwrapped while connecting (:data:`CONNECTION_ERRORS`) become ``OperationalError``. Strings
    written are cleaned by :func:`clean_text`. On SQLite the file's identity (device, inode) is
    taken at the first transaction; a transaction that finds another file (or none) at the path
    raises :class:`DatabaseFileReplaced`.

    SQLite has one writer at a time, and a connection that finds the write lock taken sleeps in
    SQLite's busy handler (1, 2, 5, 10 … 100 ms between tries, ``sqlite3_busy_timeout``) instead of
    being woken when it frees. With 30 booths that made a job's INSERT wait up to 0.7 s. Writes of
    the ingest path therefore take turns in this process first (``transaction(write=True)``), in
    arrival order and woken the moment the previous writer commits; reads never wait for them (WAL).
    A turn is waited for at most ``write_turn_timeout`` seconds (default the busy timeout), so a
    database locked by another process fails each photo within twice that, not after the whole
    queue ahead of it.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        options: dict = {"json_serializer": _json_dumps}
        if url.startswith("postgresql"):  # a server connection can drop (restart, failover): ping on checkout
            options["pool_pre_ping"] = True
        if url.startswith("postgresql+asyncpg"):
            options["connect_args"] = {"server_settings": {"lock_timeout": f"{LOCK_TIMEOUT_SECONDS * 1000}"}}
        self.engine: AsyncEngine = create_async_engine(url, **options)
        event.listen(self.engine.sync_engine, "before_cursor_execute", _clean_parameters, retval=True)
        self.file: str | None = None  # the SQLite file, checked before each transaction
        self._identity: tuple[int, int] | None = None
        self._replaced_logged = False
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            name = self.engine.url.database
            if name and name != ":memory:" and not name.startswith("file:"):
                self.file = os.path.abspath(name)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._one_writer = self.engine.dialect.name == "sqlite"
        self.write_turn_timeout = float(LOCK_TIMEOUT_SECONDS)
        self._writer_turns: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    @asynccontextmanager
    async def transaction(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on exit, rolled back on error.

        ``write=True`` for a short transaction that writes: on SQLite it begins only when the
        writers before it in this process have committed (see the class docstring); never open
        another ``write=True`` transaction inside one (it would wait for itself). Raises
        ``sqlalchemy.exc.OperationalError`` when no turn came within ``write_turn_timeout`` or the
        server cannot be reached, :class:`DatabaseFileReplaced` (SQLite) as described above."""
        self.check_file()
        try:
            async with self._transaction(write) as session:
                yield session
        except CONNECTION_ERRORS as exc:
            raise OperationalError("connect", None, exc) from exc
        if self.file is not None and self._identity is None:
            self.check_file()  # the first transaction may have created the file: take its identity

    def check_file(self) -> None:
        """Raise :class:`DatabaseFileReplaced` when the SQLite file at the path is not the one this
        process opened (a no-op on PostgreSQL and before the file exists)."""
        if self.file is None:
            return
        try:
            found = os.stat(self.file)
        except FileNotFoundError:
            found = None
        identity = (found.st_dev, found.st_ino) if found else None
        if self._identity is None:  # taken once the file exists (the first migration creates it)
            self._identity = identity
        elif identity != self._identity:
            reason = FileNotFoundError(f"the SQLite file {self.file} was deleted or replaced while serving")
            if not self._replaced_logged:
                self._replaced_logged = True
                log.error("database.file_replaced", path=self.file, action="refusing every transaction until a restart")
            raise DatabaseFileReplaced("check file", None, reason)

    @asynccontextmanager
    async def _transaction(self, write: bool) -> AsyncIterator[AsyncSession]:
        if write and self._one_writer:
            lock = self._writer_lock()
            try:
                async with asyncio.timeout(self.write_turn_timeout):
                    await lock.acquire()
            except TimeoutError:
                reason = TimeoutError(f"no write turn within {self.write_turn_timeout:g} s: the database is locked")
                raise OperationalError("BEGIN (write turn)", None, reason) from None
            try:
                async with self.sessions() as session, session.begin():
                    yield session
            finally:
                lock.release()
            return
        async with self.sessions() as session, session.begin():
            yield session

    def _writer_lock(self) -> asyncio.Lock:
        """The writers' lock of the running event loop (a Database may outlive a loop: CLI, tests)."""
        loop = asyncio.get_running_loop()
        if self._writer_turns is None or self._writer_turns[0] is not loop:
            self._writer_turns = (loop, asyncio.Lock())
        return self._writer_turns[1]

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA database_list")
    files = [row[2] for row in cursor.fetchall() if row[2]]
    cursor.close()
    for name in files:  # it holds the ingest password and admin hashes: owner only
        for path in (name, f"{name}-wal", f"{name}-shm"):
            with contextlib.suppress(OSError):
                os.chmod(path, 0o600)
