"""Secrets that must be the same in every process: from the environment, else generated once into
a ``DATA_DIR`` file with mode 0600 (share DATA_DIR or set the variable when running several hosts)."""

import os
import secrets
from pathlib import Path


def load_or_create(path: Path, env_value: str | None, generate=lambda: secrets.token_urlsafe(48)) -> str:
    """``env_value`` if set; else the content of ``path``, created atomically (0600) on first use."""
    if env_value:
        return env_value
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = generate()
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    try:
        os.link(temp, path)  # fails if another process created it first: keep theirs
    except FileExistsError:
        pass
    finally:
        temp.unlink(missing_ok=True)
    return path.read_text().strip()
