"""Debian's nginx running the shipped site ``deploy/nginx/photochanger.conf`` in the foreground,
in a temporary prefix, in front of the given server processes (tests and benchmarks)."""

import shutil
import subprocess
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.tools.processes import wait_ready

SITE = Path(__file__).parents[2] / "deploy" / "nginx" / "photochanger.conf"


def available() -> bool:
    """Whether an ``nginx`` binary is on PATH."""
    return shutil.which("nginx") is not None


def render(site: str, port: int, upstreams: list[int]) -> str:
    """The shipped site with a loopback listen port and these upstream processes."""
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in upstreams)
    head, _, rest = site.partition("upstream photochanger {\n")
    _, _, rest = rest.partition("    keepalive")
    site = f"{head}upstream photochanger {{\n{servers}    keepalive{rest}"
    return site.replace("listen 80;", f"listen 127.0.0.1:{port};")


class Nginx:
    """``nginx -p PREFIX`` with the shipped site; :attr:`url` is its loopback address."""

    def __init__(self, prefix: Path, upstreams: list[int], port: int | None = None) -> None:
        self.prefix = prefix
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.upstreams = upstreams
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Nginx":
        """Write the configuration, check it (``nginx -t``), start and wait for ``/healthz``."""
        (self.prefix / "logs").mkdir(parents=True, exist_ok=True)
        (self.prefix / "nginx.conf").write_text(
            "daemon off; worker_processes 1; pid nginx.pid; error_log logs/error.log;\n"
            "events { worker_connections 1024; }\n"
            "http { access_log logs/access.log; client_body_temp_path body; proxy_temp_path proxy;\n"
            f"{render(SITE.read_text(), self.port, self.upstreams)}\n}}\n"
        )
        checked = subprocess.run(["nginx", "-t", "-p", str(self.prefix), "-c", "nginx.conf"], capture_output=True)
        if checked.returncode != 0:
            raise RuntimeError(checked.stderr.decode())
        self.proc = subprocess.Popen(["nginx", "-p", str(self.prefix), "-c", "nginx.conf"], stderr=subprocess.PIPE)
        wait_ready(self.proc, lambda: httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200, 10, name="nginx")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
