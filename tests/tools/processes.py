"""Waiting for a helper process (the server under test, SeaweedFS, nginx) to become ready."""

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx


def wait_ready(
    proc: subprocess.Popen,
    ready: Callable[[], bool],
    seconds: float,
    *,
    name: str,
    log: Path | None = None,
    interval: float = 0.1,
) -> None:
    """Call ``ready()`` every ``interval`` seconds until it returns True (an ``httpx`` transport
    error counts as not yet). Raises ``RuntimeError`` with the tail of ``log`` when ``proc`` exits
    first or ``seconds`` pass; then ``proc`` is killed, so no half-started process is left behind."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if ready():
                return
        except httpx.TransportError:
            pass
        time.sleep(interval)
    problem = f"{name} exited" if proc.poll() is not None else f"{name} did not become ready in {seconds:g} s"
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
    raise RuntimeError(f"{problem}: {tail}" if tail else problem)
