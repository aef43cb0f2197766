"""Where photos live: a local folder (default) or an S3-compatible bucket, behind one interface.

Paths handed around are relative keys (``results/<job>.jpg``), stored in the database, the same
in both backends. Every write is all-or-nothing: the folder writes a temp file in ``tmp/`` and
renames it (``os.replace``); S3 makes an object visible only when its PUT (or multipart upload)
completes. Uploads in progress are always spooled to a local scratch folder (``MEDIA_ROOT/tmp``),
whichever backend keeps the finished photo. Every failure is raised as :class:`OSError` so callers
answer ``503 storage_unavailable`` (or keep the guest's image) instead of a bare 500.
"""

import asyncio
import errno
import os
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

import structlog

if TYPE_CHECKING:
    from photochanger.config import Config

SUBDIRS = ("tmp", "originals", "results", "templates", "provider-media")
STREAM_CHUNK_BYTES = 256 * 1024  # pieces an object is streamed to the client in
S3_TIMEOUT = "20s"  # one S3 request, end to end (object_store's client option format)
S3_CONNECT_TIMEOUT = "3s"
S3_MAX_RETRIES = 2  # 5xx, dropped connections, timeouts of reads
S3_RETRY_SECONDS = 5  # no retry starts later than this after the first request
PROBE_KEY = "tmp/readyz.probe"

T = TypeVar("T")


def thumbnail_path(result_path: str) -> str:
    """Where the thumbnail of ``results/<job>.<ext>`` is cached (removed with the result)."""
    return result_path.rsplit(".", 1)[0] + ".thumb.jpg"


@dataclass(frozen=True)
class StoredObject:
    """What is known of a stored file without reading it: size in bytes, a quoted entity tag
    (changes when the content does), the last modification (UTC) and, for the folder backend,
    the file itself (served with ``sendfile``)."""

    size: int
    etag: str
    modified: datetime
    path: Path | None = None


class MediaStore(ABC):
    """The media store's interface. ``scratch`` is the local folder uploads are spooled to before
    they are kept (``MEDIA_ROOT/tmp``). Methods raise :class:`OSError` when the store refuses or
    cannot be reached, :class:`ValueError` for a key outside the store."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch.resolve()

    def temp_path(self) -> Path:
        """A fresh, unused path in the scratch folder (recreated, owner only, if someone deleted it)."""
        if not self.scratch.is_dir():
            private_folder(self.scratch)
        return self.scratch / f"{uuid.uuid4().hex}.part"

    def stale_temp_files(self, older_than: float) -> list[Path]:
        """Scratch files last modified before ``older_than`` (epoch seconds): abandoned uploads."""
        if not self.scratch.is_dir():
            return []
        return [p for p in self.scratch.iterdir() if p.is_file() and p.stat().st_mtime < older_than]

    def free_bytes(self) -> int:
        """Free space on the scratch folder's disk (every upload passes through it)."""
        return shutil.disk_usage(self.scratch).free

    @property
    @abstractmethod
    def location(self) -> str:
        """Where media is kept, for logs (a folder or ``s3://bucket/prefix``; never a secret)."""

    @abstractmethod
    async def ensure(self) -> None:
        """Create what the store needs (folders); idempotent."""

    @abstractmethod
    async def put(self, relative: str, data: bytes) -> None:
        """Keep ``data`` as ``relative``, all or nothing."""

    @abstractmethod
    async def put_file(self, temp: Path, relative: str) -> Path:
        """Keep the finished scratch file ``temp`` as ``relative``, all or nothing. Returns a local
        path with the same bytes, readable until the caller deletes ``temp`` (the folder moves
        ``temp`` into place and returns the kept file; object storage uploads it and returns ``temp``)."""

    @abstractmethod
    async def get(self, relative: str) -> bytes:
        """The bytes of ``relative``; :class:`FileNotFoundError` if there is none."""

    @abstractmethod
    async def read_prefix(self, relative: str, size: int) -> bytes:
        """The first ``size`` bytes of ``relative`` (e.g. to sniff its type)."""

    @abstractmethod
    async def stat(self, relative: str) -> StoredObject | None:
        """Size, entity tag and date of ``relative``, or None if it is not there."""

    @abstractmethod
    def stream(self, relative: str) -> AsyncIterator[bytes]:
        """The bytes of ``relative`` in pieces of about 256 KiB (for a streamed response)."""

    @abstractmethod
    async def delete(self, relative: str | None) -> int:
        """Remove ``relative`` if it is there; returns the bytes freed (0 if it was not)."""

    async def presign(self, relative: str, seconds: int) -> str | None:
        """A URL that lets anyone GET ``relative`` for ``seconds``, or None when the store cannot
        make one (the folder)."""
        return None

    probe_keys: tuple[str, ...] = (PROBE_KEY,)

    async def probe(self) -> None:
        """Prove the store takes a write: keep and remove a small probe file (in a folder store, in
        each folder a photo is written to: scratch, originals, results)."""
        await self.ensure()
        for key in self.probe_keys:
            await self.put(key, b"ok")
            await self.delete(key)


def private_folder(path: Path) -> None:
    """Create ``path`` (and its parents) if missing and make it ``0700`` whatever the umask: guests'
    photos are readable by the service's user only. A folder owned by someone else keeps its mode
    (logged)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except PermissionError:
        structlog.get_logger("photochanger.storage").warning("media.folder_not_private", path=str(path))


def _etag(stat: os.stat_result) -> str:
    return f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'


class FolderStore(MediaStore):
    """Media in a local folder (``MEDIA_ROOT``), shared by the processes of one machine. File
    work runs in threads, never on the event loop."""

    def __init__(self, root: Path) -> None:
        super().__init__(root / "tmp")
        self.root = root.resolve()

    @property
    def location(self) -> str:
        return str(self.root)

    def path(self, relative: str) -> Path:
        """Absolute path of ``relative``; ``ValueError`` if it escapes the root."""
        resolved = (self.root / relative).resolve()
        if not resolved.is_relative_to(self.root):
            raise ValueError(f"path outside media root: {relative}")
        return resolved

    async def ensure(self) -> None:
        await asyncio.to_thread(self._ensure)

    probe_keys = (PROBE_KEY, "originals/readyz.probe", "results/readyz.probe")

    def _ensure(self) -> None:
        private_folder(self.root)
        for sub in SUBDIRS:
            private_folder(self.root / sub)

    def _commit(self, temp: Path, relative: str) -> Path:
        target = self.path(relative)
        if not target.parent.is_dir():
            private_folder(target.parent)
        os.chmod(temp, 0o600)  # owner only, whatever the umask the file was created with
        with temp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)
        return target

    def _write(self, relative: str, data: bytes) -> None:
        temp = self.temp_path()
        try:
            with open(
                os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600), "wb"
            ) as handle:
                handle.write(data)
            self._commit(temp, relative)
        finally:
            temp.unlink(missing_ok=True)

    async def put(self, relative: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, relative, data)

    async def put_file(self, temp: Path, relative: str) -> Path:
        return await asyncio.to_thread(self._commit, temp, relative)

    async def get(self, relative: str) -> bytes:
        return await asyncio.to_thread(self.path(relative).read_bytes)

    async def read_prefix(self, relative: str, size: int) -> bytes:
        def read() -> bytes:
            with self.path(relative).open("rb") as handle:
                return handle.read(size)

        return await asyncio.to_thread(read)

    async def stat(self, relative: str) -> StoredObject | None:
        path = self.path(relative)
        try:
            stat = await asyncio.to_thread(path.stat)
        except FileNotFoundError:
            return None
        if not S_ISREG(stat.st_mode):
            return None
        return StoredObject(stat.st_size, _etag(stat), datetime.fromtimestamp(stat.st_mtime, UTC), path)

    async def stream(self, relative: str) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self.path(relative).open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, STREAM_CHUNK_BYTES):
                yield chunk
        finally:
            handle.close()

    async def delete(self, relative: str | None) -> int:
        if not relative:
            return 0
        return await asyncio.to_thread(self._delete, relative)

    def _delete(self, relative: str) -> int:
        target = self.path(relative)
        try:
            size = target.stat().st_size
            target.unlink()
        except FileNotFoundError:
            return 0
        return size


class ObjectStore(MediaStore):
    """Media in an S3-compatible bucket (AWS S3, SeaweedFS, MinIO, R2…) through ``obstore``
    (the Rust ``object_store`` crate: async, retries, SigV4). Keys are ``prefix/relative``.
    Credentials and region come from the standard ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
    ``AWS_SESSION_TOKEN`` and ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``); ``endpoint_url`` selects a
    non-AWS store (path-style requests, plain HTTP allowed). Each request is bounded by 20 s and
    retried at most twice within 5 s (the client's default would retry for 3 minutes)."""

    def __init__(self, url: str, scratch: Path, endpoint_url: str | None = None) -> None:
        super().__init__(scratch)
        from obstore.store import S3Store  # imported only when media lives in a bucket

        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"MEDIA_URL must look like s3://bucket/prefix, not {url!r}")
        self.bucket, self.prefix = parts.netloc, parts.path.strip("/")
        env = os.environ
        config = {
            key: value
            for key, value in {
                "access_key_id": env.get("AWS_ACCESS_KEY_ID"),
                "secret_access_key": env.get("AWS_SECRET_ACCESS_KEY"),
                "session_token": env.get("AWS_SESSION_TOKEN"),
                "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
                "endpoint": endpoint_url,
            }.items()
            if value
        }
        options = {"timeout": S3_TIMEOUT, "connect_timeout": S3_CONNECT_TIMEOUT}
        if endpoint_url:
            options["allow_http"] = "true"
            config["virtual_hosted_style_request"] = False
        retry = {  # object_store's default retries for 3 minutes; a guest waits at most the deadline
            "max_retries": S3_MAX_RETRIES,
            "retry_timeout": timedelta(seconds=S3_RETRY_SECONDS),
            "backoff": {"init_backoff": timedelta(milliseconds=100), "max_backoff": timedelta(seconds=1), "base": 2},
        }
        self._store = S3Store(
            self.bucket,
            prefix=self.prefix or None,
            client_options=options,  # pyright: ignore[reportArgumentType]  (obstore's TypedDict; its documented keys)
            retry_config=retry,  # pyright: ignore[reportArgumentType]
            **config,
        )

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    @staticmethod
    def _key(relative: str) -> str:
        if relative.startswith("/") or ".." in relative.split("/"):
            raise ValueError(f"key outside the media store: {relative}")
        return relative

    @staticmethod
    async def _call(what: str, call: Awaitable[T]) -> T:
        """``call``, with the client's errors (network, HTTP status, signature) as :class:`OSError`;
        a missing object stays :class:`FileNotFoundError`."""
        try:
            return await call
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise OSError(errno.EIO, f"object storage {what} failed: {type(exc).__name__}") from exc

    async def ensure(self) -> None:
        # the bucket is the operator's (created with its lifecycle and access policy); only the scratch is ours
        await asyncio.to_thread(private_folder, self.scratch)

    async def put(self, relative: str, data: bytes) -> None:
        import obstore

        await self._call("write", obstore.put_async(self._store, self._key(relative), data))

    async def put_file(self, temp: Path, relative: str) -> Path:
        import obstore

        await self._call("write", obstore.put_async(self._store, self._key(relative), temp))
        return temp

    async def get(self, relative: str) -> bytes:
        import obstore

        result = await self._call("read", obstore.get_async(self._store, self._key(relative)))
        return bytes(await self._call("read", result.bytes_async()))

    async def read_prefix(self, relative: str, size: int) -> bytes:
        import obstore

        call = obstore.get_range_async(self._store, self._key(relative), start=0, length=size)
        return bytes(await self._call("read", call))

    async def stat(self, relative: str) -> StoredObject | None:
        import obstore

        try:
            meta = await self._call("stat", obstore.head_async(self._store, self._key(relative)))
        except FileNotFoundError:
            return None
        return StoredObject(meta["size"], meta["e_tag"] or f'"{meta["size"]:x}"', meta["last_modified"])

    async def stream(self, relative: str) -> AsyncIterator[bytes]:
        import obstore

        result = await self._call("read", obstore.get_async(self._store, self._key(relative)))
        async for chunk in result.stream(min_chunk_size=STREAM_CHUNK_BYTES):
            yield bytes(chunk)

    async def delete(self, relative: str | None) -> int:
        import obstore

        if not relative:
            return 0
        found = await self.stat(relative)
        if found is None:
            return 0
        await self._call("delete", obstore.delete_async(self._store, self._key(relative)))
        return found.size

    async def presign(self, relative: str, seconds: int) -> str | None:
        import obstore

        call = obstore.sign_async(self._store, "GET", self._key(relative), timedelta(seconds=seconds))
        return await self._call("sign", call)

    async def keys(self, under: str = "") -> list[str]:
        """Every key below ``under`` (relative to the prefix), for tests and audits."""
        import obstore

        found: list[str] = []
        async for batch in obstore.list(self._store, under or None):
            found.extend(item["path"] for item in batch)
        return found


def open_store(config: "Config") -> MediaStore:
    """The store ``config`` selects: ``MEDIA_URL=s3://bucket/prefix`` (with ``S3_ENDPOINT_URL``
    for non-AWS stores) or, by default, the folder ``MEDIA_ROOT``. Raises :class:`ValueError` for
    a malformed URL."""
    if config.media_url:
        return ObjectStore(config.media_url, config.resolved_media_root / "tmp", config.s3_endpoint_url)
    return FolderStore(config.resolved_media_root)
