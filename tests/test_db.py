"""Database transactions: SQLite writers take turns in the process, readers never wait for them."""

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from photochanger.db import Database


async def _database(tmp_path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE events (n INTEGER PRIMARY KEY, who TEXT)"))
    return db


async def test_sqlite_writers_begin_in_arrival_order_once_the_one_before_committed(tmp_path):
    db = await _database(tmp_path)
    release_first, first_began = asyncio.Event(), asyncio.Event()
    began: list[str] = []

    async def writer(name: str, hold: asyncio.Event | None = None) -> None:
        async with db.transaction(write=True) as session:
            began.append(name)
            first_began.set()
            await session.execute(text("INSERT INTO events (who) VALUES (:who)"), {"who": name})
            if hold is not None:
                await hold.wait()  # the write transaction stays open (SQLite's write lock held)

    try:
        first = asyncio.create_task(writer("first", release_first))
        await first_began.wait()
        others = [asyncio.create_task(writer(f"writer-{n}")) for n in range(3)]
        for _ in range(50):  # many loop turns: nobody else may begin while the first is open
            await asyncio.sleep(0)
        assert began == ["first"]
        async with db.transaction() as session:  # a reader does not wait for the writers (WAL)
            assert (await session.execute(text("SELECT count(*) FROM events"))).scalar_one() == 0
        release_first.set()
        await asyncio.gather(first, *others)
        assert began == ["first", "writer-0", "writer-1", "writer-2"]
        async with db.transaction() as session:
            rows = (await session.execute(text("SELECT who FROM events ORDER BY n"))).scalars().all()
        assert rows == began
    finally:
        await db.dispose()


async def test_a_failed_write_gives_the_turn_to_the_next(tmp_path):
    db = await _database(tmp_path)
    try:
        try:
            async with db.transaction(write=True) as session:
                await session.execute(text("INSERT INTO events (n, who) VALUES (1, 'a')"))
                await session.execute(text("INSERT INTO events (n, who) VALUES (1, 'again')"))
        except Exception as exc:
            assert "UNIQUE" in str(exc)
        async with asyncio.timeout(5), db.transaction(write=True) as session:
            await session.execute(text("INSERT INTO events (who) VALUES ('next')"))
        async with db.transaction() as session:
            assert (await session.execute(text("SELECT who FROM events"))).scalars().all() == ["next"]
    finally:
        await db.dispose()


def test_the_same_database_serves_writers_in_a_later_event_loop(tmp_path):
    async def contended_writes(db: Database) -> None:
        async def write(who: str) -> None:
            async with db.transaction(write=True) as session:
                await session.execute(text("INSERT INTO events (who) VALUES (:who)"), {"who": who})

        await asyncio.gather(*(write(f"w{n}") for n in range(4)))

    db = asyncio.run(_database(tmp_path))
    asyncio.run(contended_writes(db))  # the CLI and the tests run one Database in several loops
    asyncio.run(contended_writes(db))
    asyncio.run(db.dispose())


async def test_a_writer_waits_for_its_turn_at_most_the_turn_timeout(tmp_path):
    db = await _database(tmp_path)
    db.write_turn_timeout = 0.2  # seconds; default: the 5 s busy timeout
    holding, release = asyncio.Event(), asyncio.Event()

    async def holder() -> None:  # e.g. a writer stuck in SQLite's busy handler behind another process
        async with db.transaction(write=True) as session:
            await session.execute(text("INSERT INTO events (who) VALUES ('holder')"))
            holding.set()
            await release.wait()

    try:
        task = asyncio.create_task(holder())
        await holding.wait()
        with pytest.raises(OperationalError, match=r"no write turn within 0\.2 s"):
            async with db.transaction(write=True) as session:
                await session.execute(text("INSERT INTO events (who) VALUES ('late')"))
        release.set()
        await task
        async with db.transaction(write=True) as session:  # the turns go on
            await session.execute(text("INSERT INTO events (who) VALUES ('next')"))
        async with db.transaction() as session:
            rows = (await session.execute(text("SELECT who FROM events ORDER BY n"))).scalars().all()
        assert rows == ["holder", "next"]
    finally:
        await db.dispose()


def test_clean_text_drops_nul_and_replaces_lone_surrogates_everywhere():
    from photochanger.db import clean_text

    dirty = {"a\x00b": ["x\x00", ("\ud800y", 3)], "n": None, "ok": "café"}
    assert clean_text(dirty) == {"ab": ["x", ("\ufffdy", 3)], "n": None, "ok": "café"}


async def test_text_postgresql_refuses_is_cleaned_on_write(tmp_path):
    db = await _database(tmp_path)
    async with db.transaction(write=True) as session:
        await session.execute(text("INSERT INTO events (who) VALUES (:who)"), {"who": "a\x00b\udc80"})
    async with db.transaction() as session:
        assert (await session.execute(text("SELECT who FROM events"))).scalar_one() == "ab\ufffd"
    await db.dispose()


async def test_a_replaced_sqlite_file_refuses_every_transaction(tmp_path):
    from photochanger.db import DatabaseFileReplaced

    db = await _database(tmp_path)
    (tmp_path / "turns.db").rename(tmp_path / "aside.db")
    with pytest.raises(DatabaseFileReplaced):
        async with db.transaction() as session:
            await session.execute(text("SELECT 1"))
    (tmp_path / "aside.db").rename(tmp_path / "turns.db")  # the same file back: served again
    async with db.transaction() as session:
        assert (await session.execute(text("SELECT count(*) FROM events"))).scalar_one() == 0
    await db.dispose()


async def test_a_refused_connection_is_an_operational_error():
    db = Database("postgresql+asyncpg://nobody@127.0.0.1:9/none")  # port 9 (discard): nothing listens
    with pytest.raises(OperationalError):
        async with db.transaction() as session:
            await session.execute(text("SELECT 1"))
    await db.dispose()


def test_clean_text_returns_clean_values_unchanged():
    from photochanger.db import clean_text

    clean = ("a", 1, ["b", {"c": "d"}])
    assert clean_text(clean) is clean  # nothing rebuilt on the common path
