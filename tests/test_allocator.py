"""The allocator setting: freed photo-sized buffers are reused instead of faulted in again."""

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")

# 40 times holds four 3 MB buffers at once (what one photo holds: the upload, its decode, the answer
# and its decode) and frees them; prints the minor page faults that took, after an optional
# keep_freed_buffers().
PROGRAM = """
import resource, sys
from photochanger import allocator
applied = allocator.keep_freed_buffers() if sys.argv[1] == "tuned" else None
for _ in range(3):
    buffers = [bytearray(3_000_000) for _ in range(4)]
    del buffers
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(40):
    buffers = [bytearray(3_000_000) for _ in range(4)]
    del buffers
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _run(mode: str, **env: str) -> tuple[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM, mode], env={**os.environ, **env}, capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0], int(out[1])


def test_freed_buffers_are_reused_not_faulted_in_again() -> None:
    env = {"GLIBC_TUNABLES": ""}
    applied, tuned = _run("tuned", **env)
    _, default = _run("default", **env)
    assert applied == "True"
    assert default >= 40 * 700  # the freed 12 MB went back to the OS: each photo faults it in again
    assert tuned < 200


def test_an_operators_glibc_tunables_win() -> None:
    applied, _ = _run("tuned", GLIBC_TUNABLES="glibc.malloc.trim_threshold=1048576")
    assert applied == "False"
