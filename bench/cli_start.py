"""How long ``photochanger --help`` and ``photochanger info`` take as whole processes (what an
operator waits for at a prompt), and which heavy packages a ``--help`` imports (none should be).

Prints min / median / max wall seconds over ``--runs`` runs of each command.

Usage: python -m bench.cli_start [--runs 10]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HEAVY = ("sqlalchemy", "fastapi", "pydantic", "PIL", "google.genai", "openai", "uvicorn", "rich", "httpx")


def timed(args: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of one run of ``python -m photochanger ARGS``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "photochanger", *args], check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def heavy_imports() -> list[str]:
    """The packages of :data:`HEAVY` that ``photochanger --help`` imports."""
    probe = (
        "import sys, runpy; sys.argv = ['photochanger', '--help']\n"
        "try:\n    runpy.run_module('photochanger', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        f"print('heavy:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    return [m for m in out.rsplit("heavy:", 1)[1].strip().split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs

    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "PHOTOCHANGER_DATA_DIR": data}
        for args in (["--help"], ["info"]):
            times = [timed(args, env) for _ in range(runs)]
            name, median = " ".join(args), statistics.median(times)
            print(f"photochanger {name:<7} min {min(times):.2f} s  median {median:.2f} s  max {max(times):.2f} s")
    print(f"heavy packages imported by --help: {', '.join(heavy_imports()) or 'none'}")


if __name__ == "__main__":
    main()
