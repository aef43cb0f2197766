"""Files under MEDIA_ROOT, always written atomically (temp file in ``tmp/`` + ``os.replace``)."""

import os
import uuid
from pathlib import Path

SUBDIRS = ("tmp", "originals", "results", "templates", "provider-media")


def thumbnail_path(result_path: str) -> str:
    """Where the thumbnail of ``results/<job>.<ext>`` is cached (removed with the result)."""
    return result_path.rsplit(".", 1)[0] + ".thumb.jpg"


class MediaStore:
    """The media folder. Paths handed around are relative (``results/<job>.jpg``) and stored in
    the database; :meth:`path` resolves them and refuses anything outside the root."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def ensure(self) -> None:
        """Create the folder layout (idempotent). Raises ``OSError`` if not writable."""
        for sub in SUBDIRS:
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def path(self, relative: str) -> Path:
        """Absolute path of ``relative``; ``ValueError`` if it escapes the root."""
        resolved = (self.root / relative).resolve()
        if not resolved.is_relative_to(self.root):
            raise ValueError(f"path outside media root: {relative}")
        return resolved

    def temp_path(self) -> Path:
        """A fresh, unused path in ``tmp/`` (same file system as the targets, so renames are atomic);
        ``tmp/`` is recreated if someone deleted it."""
        folder = self.root / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{uuid.uuid4().hex}.part"

    def commit(self, temp: Path, relative: str) -> int:
        """Flush ``temp`` to disk and move it to ``relative`` atomically. Returns its size in bytes."""
        target = self.path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        with temp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)
        return target.stat().st_size

    def write(self, relative: str, data: bytes) -> None:
        """Write ``data`` to ``relative`` atomically; no partial file remains on failure."""
        temp = self.temp_path()
        try:
            with temp.open("wb") as handle:
                handle.write(data)
            self.commit(temp, relative)
        finally:
            temp.unlink(missing_ok=True)

    def read(self, relative: str) -> bytes:
        """The bytes of ``relative``."""
        return self.path(relative).read_bytes()

    def delete(self, relative: str | None) -> int:
        """Remove ``relative`` if it exists; returns the bytes freed."""
        if not relative:
            return 0
        target = self.path(relative)
        try:
            size = target.stat().st_size
            target.unlink()
        except FileNotFoundError:
            return 0
        return size

    def stale_temp_files(self, older_than: float) -> list[Path]:
        """Files in ``tmp/`` last modified before ``older_than`` (epoch seconds)."""
        return [p for p in (self.root / "tmp").iterdir() if p.is_file() and p.stat().st_mtime < older_than]
