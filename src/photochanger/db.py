"""Database engine, session factory and the declarative base shared by every ``models.py``.

Transactions are short and explicit: callers open ``async with db.transaction() as session`` around
the queries of one step and never across a provider call or any other network wait.
"""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

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


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


LOCK_TIMEOUT_SECONDS = 5  # like SQLite's busy timeout below


class Database:
    """One async engine and its session factory.

    ``url`` is an SQLAlchemy async URL (``sqlite+aiosqlite:///…`` or ``postgresql+asyncpg://…``).
    SQLite runs in WAL mode with a 5 s busy timeout so readers never wait for the one writer;
    PostgreSQL sessions wait at most :data:`LOCK_TIMEOUT_SECONDS` for a row, table or advisory lock
    (``lock_timeout``), so a table locked by someone else fails a request within the deadline
    (503 ``storage_unavailable``) instead of holding it open.

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
        options: dict = {}
        if url.startswith("postgresql"):  # a server connection can drop (restart, failover): ping on checkout
            options["pool_pre_ping"] = True
        if url.startswith("postgresql+asyncpg"):
            options["connect_args"] = {"server_settings": {"lock_timeout": f"{LOCK_TIMEOUT_SECONDS * 1000}"}}
        self.engine: AsyncEngine = create_async_engine(url, **options)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
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
        ``sqlalchemy.exc.OperationalError`` when no turn came within ``write_turn_timeout``."""
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
