"""A throw-away database on a PostgreSQL server (tests and benchmarks)."""

import glob
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import make_url


@asynccontextmanager
async def fresh_database(server_url: str, prefix: str = "photochanger_test") -> AsyncIterator[str]:
    """A new, empty database on the server of ``server_url`` (SQLAlchemy async URL); yields its URL
    and drops it (``WITH (FORCE)``) on exit."""
    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(make_url(server_url).set(drivername="postgresql").render_as_string(False))
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


class PrivateCluster:
    """A PostgreSQL cluster of its own (Debian's server binaries, trust auth on 127.0.0.1) that a
    test may stop and restart while a service uses it; the shared server of the suite stays up.
    As root the server runs as the ``postgres`` user, like ``scripts/start-test-postgres``."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory, self.port = directory, port
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
        self.bindir = Path(found[-1]) if found else None
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        assert self.bindir is not None
        subprocess.run([*self.run_as, str(self.bindir / tool), *args], check=True, capture_output=True, timeout=60)

    def start(self) -> "PrivateCluster":
        """initdb on first use, then start and wait until it accepts connections."""
        data = self.directory / "data"
        if not data.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            if self.run_as:
                shutil.chown(self.directory, "postgres")
            self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.directory} -c fsync=off"
        self._run("pg_ctl", "-D", str(data), "-l", str(self.directory / "log"), "-w", "-o", options, "start")
        return self

    def stop(self) -> None:
        """``pg_ctl stop -m fast``: every connection is cut, new ones are refused."""
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-w", "-m", "fast", "stop")

    def restart(self) -> None:
        """``pg_ctl restart -m fast`` (as an operator restarts it mid-event)."""
        options = f"-h 127.0.0.1 -p {self.port} -k {self.directory} -c fsync=off"
        data = str(self.directory / "data")
        self._run("pg_ctl", "-D", data, "-l", str(self.directory / "log"), "-w", "-m", "fast", "-o", options, "restart")
