"""``photochanger backup FILE`` and ``photochanger restore FILE``: one tar archive holding

* ``database/photochanger.db`` — a consistent copy of the SQLite file made with SQLite's online
  backup API while the server keeps serving (https://www.sqlite.org/backup.html), or
  ``database/postgres.dump`` — ``pg_dump --format=custom`` (one snapshot: a single transaction);
* ``secrets/jwt.secret`` and ``secrets/secret.key`` — the files in ``DATA_DIR`` (the Fernet key
  decrypts the provider keys stored in the database: the two belong together);
* ``media/…`` — every template, every result and (unless left out) every original the database
  refers to, read through the media store (a folder or S3);
* ``manifest.json`` — the format, when, the schema revision, the database kind and the size and
  SHA-256 of every other member.

The archive is written to ``FILE.partial`` and renamed when complete, so a FILE is never half a
backup. A restore verifies every member against the manifest before it changes anything, then
writes the database, the secrets and the media, and migrates the schema to this version's.
"""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import make_url

from photochanger import migrations
from photochanger.backup import repository
from photochanger.clock import wall_now
from photochanger.config import Config
from photochanger.db import Database
from photochanger.storage import MediaStore

FORMAT = 1
SECRET_FILES = ("jwt.secret", "secret.key")
SQLITE_MEMBER = "database/photochanger.db"
POSTGRES_MEMBER = "database/postgres.dump"


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why (tools missing, a member that
    does not match the manifest, a backup of another database kind)."""


@dataclass
class BackupReport:
    """What an archive holds: ``media`` files (``media_bytes`` bytes), the media the database named
    but the store no longer had (``media_missing``: deleted since), and the database kind."""

    path: Path
    database: str
    media: int
    media_bytes: int
    media_missing: int
    secrets: int


def _pg_tool(name: str) -> str:
    """The path of PostgreSQL's ``name`` (``pg_dump``, ``pg_restore``): on ``PATH``, else Debian's
    newest ``/usr/lib/postgresql/*/bin``. Raises :class:`BackupError` when not installed."""
    found = shutil.which(name)
    if found is None:
        candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: p.parts[-3])
        found = str(candidates[-1]) if candidates else None
    if found is None:
        raise BackupError(f"{name} is not installed (PostgreSQL's client tools: apt-get install postgresql-client)")
    return found


def _libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL as libpq takes it (``postgresql://…``, password included)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run_tool(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-500:]}")


def _sha256(handle: IO[bytes]) -> str:
    """The SHA-256 (hex) of what ``handle`` yields, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    while chunk := handle.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


class _Writer:
    """Adds members to a tar archive and records their size and SHA-256 for the manifest."""

    def __init__(self, archive: tarfile.TarFile) -> None:
        self.archive = archive
        self.files: dict[str, dict[str, object]] = {}

    def add_bytes(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), int(wall_now().timestamp()), 0o600
        self.archive.addfile(info, io.BytesIO(data))
        self.files[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}

    def add_file(self, name: str, path: Path) -> None:
        with path.open("rb") as handle:
            digest = _sha256(handle)
        info = self.archive.gettarinfo(str(path), name)
        info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
        with path.open("rb") as handle:
            self.archive.addfile(info, handle)
        self.files[name] = {"size": info.size, "sha256": digest}


async def backup(config: Config, store: MediaStore, target: Path, originals: bool = True) -> BackupReport:
    """Write the archive described in the module docstring to ``target`` while the server may be
    serving. Raises :class:`BackupError` (``pg_dump`` missing or failing) or ``OSError``."""
    partial = target.with_name(target.name + ".partial")
    db = Database(config.resolved_database_url)
    kind = db.engine.dialect.name
    missing = media_bytes = 0
    try:
        with tempfile.TemporaryDirectory(prefix="photochanger-backup-") as scratch, tarfile.open(partial, "w") as tar:
            writer = _Writer(tar)
            copy = Path(scratch) / "database"
            if kind == "sqlite":
                file = config.sqlite_file
                assert file is not None
                with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as source, sqlite3.connect(copy) as dest:
                    source.backup(dest)  # a consistent snapshot, pages copied while writers go on
                writer.add_file(SQLITE_MEMBER, copy)
            else:
                dump = [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(copy)]
                _run_tool([*dump, "--dbname", _libpq_url(config.resolved_database_url)])
                writer.add_file(POSTGRES_MEMBER, copy)
            async with db.transaction() as session:
                revision = await repository.schema_revision(session)
                paths = await repository.media_paths(session, originals)
            secrets = 0
            for name in SECRET_FILES:
                if (config.data_dir / name).is_file():
                    writer.add_file(f"secrets/{name}", config.data_dir / name)
                    secrets += 1
            for relative in paths:
                try:
                    data = await store.get(relative)
                except FileNotFoundError:
                    missing += 1  # deleted (expired, or on a guest's request) since the database was read
                    continue
                writer.add_bytes(f"media/{relative}", data)
                media_bytes += len(data)
            manifest = {
                "format": FORMAT,
                "created_at": wall_now().isoformat(),
                "schema_revision": revision,
                "database": kind,
                "originals": originals,
                "files": writer.files,
            }
            writer.add_bytes("manifest.json", json.dumps(manifest, indent=1).encode())
        with partial.open("rb+") as handle:
            os.fsync(handle.fileno())
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        await db.dispose()
    media = sum(1 for name in writer.files if name.startswith("media/"))
    return BackupReport(target, kind, media, media_bytes, missing, secrets)


def verify(source: Path) -> dict:
    """The manifest of the archive at ``source`` after checking every member's size and SHA-256
    against it. Raises :class:`BackupError` naming the first member that does not match."""
    try:
        with tarfile.open(source, "r") as tar:
            manifest_member = tar.extractfile("manifest.json")
            if manifest_member is None:
                raise BackupError(f"{source} has no manifest.json: not a PhotoChanger backup")
            manifest = json.loads(manifest_member.read())
            if manifest.get("format") != FORMAT:
                raise BackupError(f"{source}: backup format {manifest.get('format')!r}, this version reads {FORMAT}")
            expected = dict(manifest["files"])
            for member in tar:
                if member.name == "manifest.json":
                    continue
                if not member.isfile() or member.name.startswith("/") or ".." in Path(member.name).parts:
                    raise BackupError(f"{source}: {member.name!r} is not a plain file inside the archive")
                want = expected.pop(member.name, None)
                handle = tar.extractfile(member)
                if want is None or handle is None:
                    raise BackupError(f"{source}: {member.name} is not in the manifest")
                if member.size != want["size"] or _sha256(handle) != want["sha256"]:
                    raise BackupError(f"{source}: {member.name} does not match the manifest (damaged archive)")
            if expected:
                raise BackupError(f"{source}: missing {sorted(expected)[0]} (and {len(expected) - 1} more)")
    except (tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"{source} is not a readable backup: {exc}") from None
    return manifest


async def restore(config: Config, store: MediaStore, source: Path) -> BackupReport:
    """Put the archive at ``source`` in place of this configuration's database, secret files and
    media (no server may be running on them), then migrate the schema. Verifies the whole archive
    first (:func:`verify`). Raises :class:`BackupError` (damaged archive, another database kind,
    ``pg_restore`` missing or failing) or ``OSError``."""
    manifest = verify(source)
    kind = make_url(config.resolved_database_url).get_backend_name()
    kind = "postgresql" if kind.startswith("postgresql") else kind
    if manifest["database"] != kind:
        raise BackupError(f"{source} is a backup of a {manifest['database']} database; this one is {kind}")
    config.ensure_data_dir()
    await store.ensure()
    media = media_bytes = secrets = 0
    with tarfile.open(source, "r") as tar, tempfile.TemporaryDirectory(prefix="photochanger-restore-") as scratch:
        for member in tar:
            handle = tar.extractfile(member)
            if handle is None or member.name == "manifest.json":
                continue
            if member.name == SQLITE_MEMBER:
                file = config.sqlite_file
                assert file is not None
                incoming = file.with_name(file.name + ".restoring")
                with incoming.open("wb") as out:
                    shutil.copyfileobj(handle, out)
                    out.flush()
                    os.fsync(out.fileno())
                for stale in (file.with_name(file.name + "-wal"), file.with_name(file.name + "-shm")):
                    stale.unlink(missing_ok=True)
                incoming.replace(file)
            elif member.name == POSTGRES_MEMBER:
                dump = Path(scratch) / "postgres.dump"
                with dump.open("wb") as out:
                    shutil.copyfileobj(handle, out)
                restore_tool = [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction"]
                _run_tool([*restore_tool, "--dbname", _libpq_url(config.resolved_database_url), str(dump)])
            elif member.name.startswith("secrets/") and Path(member.name).name in SECRET_FILES:
                path = config.data_dir / Path(member.name).name
                path.unlink(missing_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(handle.read())
                secrets += 1
            elif member.name.startswith("media/"):
                data = handle.read()
                await store.put(member.name.removeprefix("media/"), data)
                media, media_bytes = media + 1, media_bytes + len(data)
    await migrations.upgrade_async(config.resolved_database_url)
    return BackupReport(source, kind, media, media_bytes, 0, secrets)
