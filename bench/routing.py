"""Routing under faults: success rate and latency against the fake Gemini, through a real
``photochanger serve``. Three scenarios (issue 3's figures):

1. ``flaky``: primary answers NO_IMAGE 30 % and 503 5 % of the time, no fallback;
2. ``down``: primary returns 503 on every call, ``local`` fallback configured;
3. ``hang``: primary never answers, no fallback, 10 s deadline: every answer must be a 504
   within deadline + 1 s.

Usage: python -m bench.routing [--requests 500] [--hang-requests 200] [--clients 25] [--latency 1.0]
"""

import argparse
import asyncio
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from bench.support import percentile, running_service
from tests.conftest import PHOTOS, Service

PROMPT = "Keep the people unchanged; replace the background with a beach"


def run(service: Service, slot: str, requests: int, clients: int) -> tuple[Counter, list[float]]:
    """POST ``requests`` photos with ``clients`` in parallel; (status counts, wall times)."""
    photo = (PHOTOS / "astronaut.jpg").read_bytes()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda _: service.post(slot, photo), range(requests)))
    return Counter(r.status for r in results), [r.elapsed for r in results]


def report(name: str, statuses: Counter, times: list[float]) -> None:
    ok = statuses.get(200, 0)
    total = sum(statuses.values())
    print(
        f"{name:<6} n={total}  success {100 * ok / total:.2f} %  statuses {dict(sorted(statuses.items()))}  "
        f"p50 {percentile(times, 50):.2f} s  p95 {percentile(times, 95):.2f} s  max {max(times):.2f} s  "
        f"mean {statistics.fmean(times):.2f} s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--hang-requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=25)
    parser.add_argument("--latency", type=float, default=1.0, help="fake Gemini latency per answer, seconds")
    args = parser.parse_args()
    async with running_service("routing", PROVIDER_MAX_IN_FLIGHT="256") as (service, fake):
        await service.slot("slot-001", "gemini", prompt=PROMPT, max_in_flight=64)
        fake.reset(latency=args.latency)
        fake.mix = {"no_image": 0.30, "error_503": 0.05, "success": 0.65}
        report("flaky", *run(service, "slot-001", args.requests, args.clients))

        await service.slot(
            "slot-002",
            "gemini",
            prompt=PROMPT,
            max_in_flight=64,
            fallbacks=[{"provider": "local", "settings": {"look": "warm"}}],
        )
        fake.reset(default="error_503", latency=args.latency)
        report("down", *run(service, "slot-002", args.requests, args.clients))

        await service.setting("sync_response_seconds", 10)
        await service.slot("slot-003", "gemini", prompt=PROMPT, max_in_flight=64)
        fake.reset(default="hang")
        started = time.monotonic()
        statuses, times = run(service, "slot-003", args.hang_requests, max(args.clients, 50))
        report("hang", statuses, times)
        late = sum(1 for t in times if t > 11.0)
        print(
            f"hang   all 504: {statuses == Counter({504: args.hang_requests})}  answers later than deadline + 1 s: "
            f"{late}  wall {time.monotonic() - started:.1f} s"
        )


if __name__ == "__main__":
    asyncio.run(main())
