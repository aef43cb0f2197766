"""Waiting for a helper process (the server under test, SeaweedFS, nginx) to become ready."""

import os
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
    first or the time runs out; then ``proc`` is killed, so no half-started process is left behind.

    The time allowed is ``seconds`` on an idle machine and scales with its load: ``seconds ×
    load average ÷ CPUs`` while that is above 1 (a start that takes 5 s idle takes 15 s beside two
    CPU hogs on two cores; a fixed limit would fail only on busy machines)."""
    start = time.monotonic()
    while time.monotonic() - start < allowed(seconds) and proc.poll() is None:
        try:
            if ready():
                return
        except httpx.TransportError:
            pass
        time.sleep(interval)
    waited = time.monotonic() - start
    problem = f"{name} exited" if proc.poll() is not None else f"{name} did not become ready in {waited:.0f} s"
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
    raise RuntimeError(f"{problem}: {tail}" if tail else problem)


def allowed(seconds: float) -> float:
    """``seconds`` scaled by the machine's load: × (1-minute load average ÷ CPUs) when above 1. For
    readiness waits and for assertions that something answers "at once" or within its deadline:
    exact on an idle machine, not failing a busy one."""
    return seconds * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
