"""Gateway overhead under concurrent booths: N clients post the 4500×3000 DSLR fixture to a real
``photochanger serve`` whose Gemini is the fake server with a fixed latency.

Overhead = request wall time − provider time recorded on the job (``provider_ms``): upload,
checks, decode/normalise, storage, re-encode and response. Prints p50/p95/p99 of overhead and of
wall time, throughput, errors and the server's peak RSS (VmHWM).

Usage: python -m bench.ingest_overhead [--clients 30] [--requests 5] [--latency 2.0]
"""

import argparse
import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.support import percentile, running_service
from tests.conftest import PHOTOS


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size of ``pid`` in MiB (Linux ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--requests", type=int, default=5, help="per client")
    parser.add_argument("--latency", type=float, default=2.0, help="fake Gemini latency, seconds")
    args = parser.parse_args()

    async with running_service("bench", PROVIDER_MAX_IN_FLIGHT=str(args.clients * 2)) as (service, fake):
        fake.reset(latency=args.latency)
        await service.slot("slot-001", "gemini", prompt="Replace the background with a beach", max_in_flight=64)
        photo = (PHOTOS / "astronaut_dslr_4500x3000.jpg").read_bytes()
        service.post("slot-001", photo)  # warm-up (fake caches its answer image)

        def client(_: int) -> list[tuple[int, float, str | None]]:
            out = []
            for _ in range(args.requests):
                response = service.post("slot-001", photo)
                out.append((response.status, response.elapsed, response.headers.get("x-job-id")))
            return out

        started = time.monotonic()
        with ThreadPoolExecutor(args.clients) as pool:
            results = [r for batch in pool.map(client, range(args.clients)) for r in batch]
        wall = time.monotonic() - started
        ok = [(elapsed, job_id) for status, elapsed, job_id in results if status == 200]
        overhead = []
        for elapsed, job_id in ok:
            job = await service.job(job_id)
            overhead.append(elapsed - job.provider_ms / 1000)
        elapsed_all = [e for e, _ in ok]
        print(
            f"requests {len(results)}  ok {len(ok)}  errors {len(results) - len(ok)}  "
            f"clients {args.clients}  provider latency {args.latency:.1f} s  photo {len(photo) / 1e6:.1f} MB 4500x3000"
        )
        print(
            f"overhead ms  p50 {percentile(overhead, 50) * 1000:.0f}  p95 {percentile(overhead, 95) * 1000:.0f}  "
            f"p99 {percentile(overhead, 99) * 1000:.0f}  max {max(overhead) * 1000:.0f}"
        )
        print(
            f"wall ms      p50 {percentile(elapsed_all, 50) * 1000:.0f}  p95 {percentile(elapsed_all, 95) * 1000:.0f}  "
            f"p99 {percentile(elapsed_all, 99) * 1000:.0f}"
        )
        print(f"throughput   {len(ok) / wall:.1f} photos/s over {wall:.1f} s")
        print(f"server peak RSS {peak_rss_mb(service.proc.pid):.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
