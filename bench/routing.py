"""Every photo comes back: routing under provider faults against the fake providers, through a real
``photochanger serve`` at **default settings** (no limits raised). Prints one line per scenario:

1. ``flaky``: primary answers NO_IMAGE 30 % and 503 5 % of the time at 1 s, no fallback;
   20 booths over the 15 slots: success rate and p95 beyond the provider's 1 s.
2. ``crowd``: 30 booths, 2 per slot, 1 s provider: how many are refused (429).
3. ``outage``: healthy primary (1 s) with a ``local`` fallback, then the primary hangs; a guest
   every 2 s: wait of the first guest after the outage starts, worst wait of every later guest,
   and calls the hung route received after its circuit opened (probes).
4. ``hang``: primary hangs, no fallback, 10 s deadline: answers and the latest answer.
5. ``garbage``: every malformed answer shape, with a ``local`` fallback and with
   ``on_failure: original`` (no fallback): how many came back from the fallback / as the original.

Usage: python -m bench.routing [--photos 200] [--outage-seconds 180] [--only flaky,crowd,...]
"""

import argparse
import asyncio
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from bench.support import percentile, running_service
from tests.conftest import PHOTOS, Service
from tests.fakes.garbage import SHAPES

PROMPT = "Keep the people unchanged; replace the background with a beach"
LOCAL = [{"provider": "local", "settings": {"look": "warm"}}]
SLOTS = [f"slot-{n:03d}" for n in range(1, 16)]


def booths(service: Service, slots: list[str], photos: int, clients: int) -> list:
    """``photos`` posts by ``clients`` booths in parallel, booth ``i`` posting to ``slots[i % n]``."""
    photo = (PHOTOS / "astronaut.jpg").read_bytes()

    def booth(index: int) -> list:
        return [service.post(slots[index % len(slots)], photo) for _ in range(photos // clients)]

    with ThreadPoolExecutor(clients) as pool:
        return [r for batch in pool.map(booth, range(clients)) for r in batch]


async def flaky(service: Service, fake, photos: int) -> None:
    for slot in SLOTS:
        await service.slot(slot, "gemini", prompt=PROMPT)
    fake.reset(latency=1.0)
    fake.mix = {"no_image": 0.30, "error_503": 0.05, "success": 0.65}
    results = booths(service, SLOTS, photos, 20)
    ok = sum(r.status == 200 for r in results)
    beyond = [r.elapsed - 1.0 for r in results]
    print(
        f"flaky   20 booths/15 slots n={len(results)}  answered 200: {100 * ok / len(results):.1f} %  "
        f"statuses {dict(Counter(r.status for r in results))}  beyond the provider's 1 s: "
        f"p50 {percentile(beyond, 50):.2f} s  p95 {percentile(beyond, 95):.2f} s  max {max(beyond):.2f} s"
    )


async def crowd(service: Service, fake, photos: int) -> None:
    for slot in SLOTS:
        await service.slot(slot, "gemini", prompt=PROMPT)
    fake.reset(latency=1.0)
    results = booths(service, SLOTS, max(photos, 120), 30)
    statuses = Counter(r.status for r in results)
    walls = [r.elapsed for r in results]
    print(
        f"crowd   30 booths (2 per slot) n={len(results)}  refused (429): {statuses.get(429, 0)}  "
        f"statuses {dict(statuses)}  wall p50 {percentile(walls, 50):.2f} s  p95 {percentile(walls, 95):.2f} s"
    )


async def outage(service: Service, fake, seconds: float) -> None:
    await service.slot("slot-002", "gemini", prompt=PROMPT, fallbacks=LOCAL)
    photo = (PHOTOS / "astronaut.jpg").read_bytes()
    fake.reset(latency=1.0)
    for _ in range(8):  # healthy traffic first: the route's latency history
        service.post("slot-002", photo)
    fake.reset(default="hang")
    calls_at_start = len(fake.requests)
    start = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        futures = []
        while time.monotonic() - start < seconds:
            sent = time.monotonic() - start
            futures.append((sent, pool.submit(service.post, "slot-002", photo)))
            time.sleep(2.0)  # noqa: ASYNC251 - the bench paces its guests on purpose
        results = [(sent, future.result()) for sent, future in futures]
    hung_calls = len(fake.requests) - calls_at_start
    walls = [r.elapsed for _, r in results]
    statuses = Counter(r.status for _, r in results)
    slow = [(round(sent, 1), round(r.elapsed, 1)) for sent, r in results if r.elapsed > 3.0]
    print(
        f"outage  a guest every 2 s for {seconds:.0f} s n={len(results)}  statuses {dict(statuses)}  "
        f"first guest {walls[0]:.1f} s  worst later guest {max(walls[1:]):.2f} s  p95 {percentile(walls, 95):.2f} s  "
        f"guests over 3 s (sent at, wall): {slow}  calls to the hung route: {hung_calls} "
        f"(probe interval 30 s → at most {int(seconds // 30) + 1} + the first guest's)"
    )


async def hang(service: Service, fake, photos: int) -> None:
    await service.setting("sync_response_seconds", 10)
    for label, limit in (("slot limit 4 (default)", None), ("slot limit 64", 64)):
        await service.reset_route_health()
        await service.slot(
            "slot-003", "gemini", prompt=PROMPT, settings={"model": "gemini-3.1-flash-image"}, max_in_flight=limit
        )
        fake.reset(default="hang")
        results = booths(service, ["slot-003"], photos, 25)
        walls = [r.elapsed for r in results]
        late = sum(1 for w in walls if w > 11.0)
        print(
            f"hang    no fallback, 10 s deadline, 25 booths on one slot, {label}: n={len(results)}  "
            f"statuses {dict(Counter(r.status for r in results))}  latest {max(walls):.2f} s  "
            f"later than deadline + 1 s: {late}  calls to the hung route: {len(fake.requests)}"
        )
    await service.setting("sync_response_seconds", 48)


async def garbage(service: Service, fake, rounds: int) -> None:
    settings = {"model": "gemini-3-pro-image-preview", "attempt_timeout_seconds": 5}
    photo = (PHOTOS / "astronaut.jpg").read_bytes()
    for label, extra in (("fallback", {"fallbacks": LOCAL}), ("original", {"on_failure": "original"})):
        await service.slot("slot-004", "gemini", prompt=PROMPT, settings=settings, **extra)
        counts: Counter = Counter()
        walls: list[float] = []
        for shape in SHAPES:
            for _ in range(rounds):
                await service.reset_route_health()
                fake.reset(default=f"garbage_{shape}")
                r = service.post("slot-004", photo)
                counts[(r.status, r.headers.get("x-photochanger-fallback"))] += 1
                walls.append(r.elapsed)
        total = sum(counts.values())
        slowest = max(walls)
        wanted = counts[(200, "route" if label == "fallback" else "original")]
        print(
            f"garbage {len(SHAPES)} shapes × {rounds}, {label:<8} n={total}  "
            f"answered from the {label}: {100 * wanted / total:.1f} %  {dict(counts)}  slowest {slowest:.1f} s"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--outage-seconds", type=float, default=180)
    parser.add_argument("--garbage-rounds", type=int, default=3)
    parser.add_argument("--only", default="flaky,crowd,outage,hang,garbage")
    args = parser.parse_args()
    only = set(args.only.split(","))
    async with running_service("routing", ROUTE_PROBE_INTERVAL_SECONDS="30") as (service, fake):
        if "flaky" in only:
            await flaky(service, fake, args.photos)
        if "crowd" in only:
            await service.reset_route_health()
            await crowd(service, fake, args.photos)
        if "outage" in only:
            await service.reset_route_health()
            await outage(service, fake, args.outage_seconds)
        if "hang" in only:
            await service.reset_route_health()
            await hang(service, fake, args.photos)
        if "garbage" in only:
            await garbage(service, fake, args.garbage_rounds)


if __name__ == "__main__":
    asyncio.run(main())
