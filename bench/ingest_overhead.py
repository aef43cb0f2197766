"""Gateway overhead under concurrent booths: N clients post the 4500×3000 DSLR fixture to a real
``photochanger serve`` whose Gemini is the fake server with a fixed latency.

Overhead = request wall time − provider time recorded on the job (``provider_ms``): upload,
checks, decode/normalise, storage, re-encode and response. Prints p50/p95/p99 of overhead and of
wall time, throughput, errors, the server's CPU per photo (user + system time of the server
process from ``/proc/PID/stat`` over the run ÷ photos), its idle RSS before the run and its peak
RSS (VmHWM).

``--uplink-mbit R`` models a studio uplink of R Mbit/s shared by all requests to the provider
(the fake holds each request body for bytes × 8 / R on one link). Then "beyond compute" = wall
time − the fake's fixed latency is printed: what the guest waits for besides the model itself.

Production shapes: ``--postgres URL`` runs on a fresh database of that PostgreSQL server,
``--workers N`` runs ``serve --workers N`` (CPU and RSS are then summed over the worker processes),
``--nginx`` puts Debian's nginx with ``deploy/nginx/photochanger.conf`` in front, ``--s3`` keeps
media in a SeaweedFS bucket started for the run.

The fake answers as real image models do (``--answer realistic``, the default): a photographic
PNG at Gemini's size for the photo's aspect ratio (~1.2 MB per megapixel); ``--answer flat`` is
the old sepia image, which inflates 2–3× faster and understates the cost. The *image floor* —
the decode, copy, answer decode and encode the photo cannot avoid, timed with Pillow in this
process — is printed beside the server's CPU per photo, with their ratio.

``--late-jobs N`` first posts N photos to a slot with late delivery whose answers miss the booth's
deadline (10 s for the whole run; their fake answer takes 14 s), so the measured booths run while
those N AI photos are still being made and then checked and stored (late work). Compare the
overhead p99 with and without: late work waits behind the booths.

Usage: python -m bench.ingest_overhead [--clients 30] [--requests 5] [--latency 2.0] [--uplink-mbit 10]
       [--postgres postgresql+asyncpg://…] [--workers 2] [--nginx] [--s3] [--late-jobs 30]
"""

import argparse
import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.support import percentile, running_service
from tests.conftest import PHOTOS


def _tree(pid: int) -> list[int]:
    """``pid`` and its child processes (``serve --workers N`` forks its workers), Linux only."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    children.append(int(entry.name))
            except (OSError, ValueError):
                continue
    return [pid, *children]


def rss_mb(pid: int, field: str = "VmHWM") -> float:
    """Peak (``VmHWM``) or current (``VmRSS``) resident set size in MiB of ``pid`` and its
    children, summed (Linux ``/proc/PID/status``)."""
    total = 0
    for member in _tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                total += int(line.split()[1])
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time in seconds of ``pid`` and its children (``/proc/PID/stat`` fields
    14 and 15 of each)."""
    ticks = 0
    for member in _tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--requests", type=int, default=5, help="per client")
    parser.add_argument("--latency", type=float, default=2.0, help="fake Gemini latency, seconds")
    parser.add_argument("--uplink-mbit", type=float, default=None, help="shared uplink to the provider, Mbit/s")
    parser.add_argument("--photo", default="astronaut_dslr_4500x3000.jpg", help="file in tests/fixtures/photos")
    parser.add_argument("--default-limits", action="store_true", help="keep the default in-flight limits")
    parser.add_argument("--people-check", default="auto", choices=("auto", "on", "off"), help="slot people check")
    parser.add_argument("--postgres", default=None, help="PostgreSQL server URL (a fresh database is made)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (serve --workers; PostgreSQL)")
    parser.add_argument("--nginx", action="store_true", help="post through nginx with the shipped site")
    parser.add_argument("--s3", action="store_true", help="media in a SeaweedFS bucket")
    parser.add_argument("--late-jobs", type=int, default=0, help="late-delivery jobs still running during the run")
    answers = ("realistic", "flat")
    parser.add_argument(
        "--answer", default="realistic", choices=answers, help="the fake's answer: photographic or flat"
    )
    args = parser.parse_args()
    limits = {} if args.default_limits else {"PROVIDER_MAX_IN_FLIGHT": str(args.clients * 2)}
    shape = {"postgres": args.postgres, "workers": args.workers, "nginx": args.nginx, "s3": args.s3}

    async with running_service("bench", **shape, **limits) as (service, fake):
        fake.reset(latency=args.latency)
        fake.realistic = args.answer == "realistic"
        slot_limit = {} if args.default_limits else {"max_in_flight": 64}
        slots = [f"slot-{n:03d}" for n in range(1, min(args.clients, 14) + 1)]  # booths spread over 14 slots
        prompt = "Replace the background with a beach"
        for slot in slots:
            await service.slot(slot, "gemini", prompt=prompt, people_check=args.people_check, **slot_limit)
        photo_path = PHOTOS / args.photo
        photo = photo_path.read_bytes()
        idle_rss = rss_mb(service.proc.pid, "VmRSS")
        service.post("slot-001", photo)  # warm-up (fake caches its answer image)
        await service.setting("sync_response_seconds", 10)  # the same deadline with or without late jobs
        late_ids = await _start_late_jobs(service, fake, args.late_jobs, photo, prompt) if args.late_jobs else []
        fake.reset(latency=args.latency)  # the late jobs' calls keep their 14 s
        fake.uplink_mbit = args.uplink_mbit
        cpu_before = cpu_seconds(service.proc.pid)

        def client(number: int) -> list[tuple[int, float, str | None]]:
            out = []
            for _ in range(args.requests):
                response = service.post(slots[number % len(slots)], photo)
                out.append((response.status, response.elapsed, response.headers.get("x-job-id")))
            return out

        started = time.monotonic()
        with ThreadPoolExecutor(args.clients) as pool:
            results = [r for batch in pool.map(client, range(args.clients)) for r in batch]
        wall = time.monotonic() - started
        cpu = cpu_seconds(service.proc.pid) - cpu_before
        ok = [(elapsed, job_id) for status, elapsed, job_id in results if status == 200]
        overhead = []
        for elapsed, job_id in ok:
            job = await service.job(job_id)
            overhead.append(elapsed - job.provider_ms / 1000)
        elapsed_all = [e for e, _ in ok]
        print(
            f"requests {len(results)}  ok {len(ok)}  errors {len(results) - len(ok)}  "
            f"clients {args.clients}  provider latency {args.latency:g} s  photo {len(photo) / 1e6:.1f} MB "
            f"{photo_path.name}  uplink {args.uplink_mbit or 'unlimited'} Mbit/s  people check {args.people_check}"
        )
        print(
            f"shape        {'PostgreSQL' if args.postgres else 'SQLite'}, {args.workers} worker(s)"
            f"{', behind nginx' if args.nginx else ''}, media {'in S3 (SeaweedFS)' if args.s3 else 'in a folder'}"
        )
        print(
            f"overhead ms  p50 {percentile(overhead, 50) * 1000:.0f}  p95 {percentile(overhead, 95) * 1000:.0f}  "
            f"p99 {percentile(overhead, 99) * 1000:.0f}  max {max(overhead) * 1000:.0f}"
        )
        print(
            f"wall ms      p50 {percentile(elapsed_all, 50) * 1000:.0f}  p95 {percentile(elapsed_all, 95) * 1000:.0f}  "
            f"p99 {percentile(elapsed_all, 99) * 1000:.0f}"
        )
        beyond = [e - args.latency for e in elapsed_all]
        print(
            f"beyond compute ms  p50 {percentile(beyond, 50) * 1000:.0f}  p99 {percentile(beyond, 99) * 1000:.0f}"
            f"  (wall − fake latency; upload to provider, queueing and gateway work)"
        )
        copies = [p[2] for r in fake.requests for p in r.parts if p[0] == "image"]
        if copies:
            print(f"sent to provider  {sum(map(len, copies)) / len(copies) / 1e3:.0f} kB image per request")
        print(f"throughput   {len(ok) / wall:.1f} photos/s over {wall:.1f} s")
        per_photo = cpu / max(1, len(results)) * 1000
        print(f"server CPU   {per_photo:.0f} ms per photo ({cpu:.1f} s for {len(results)})")
        answer = next(iter(fake._cache.values()), None)
        if copies and answer:
            steps = image_floor(photo, copies[-1], answer)
            floor = sum(steps.values())
            shown = "  ".join(f"{name} {ms:.1f}" for name, ms in steps.items())
            print(f"image floor  {floor:.0f} ms ({shown}; answer {len(answer) / 1e6:.1f} MB {args.answer} PNG)")
            print(f"ratio        {per_photo / floor:.2f}× the floor")
        print(f"server RSS   idle {idle_rss:.0f} MiB  peak {rss_mb(service.proc.pid):.0f} MiB")
        if late_ids:
            states = await _late_outcomes(service, late_ids)
            print(f"late jobs    {args.late_jobs} running during the run; afterwards {states}")


def image_floor(photo: bytes, copy: bytes, answer: bytes, rounds: int = 9) -> dict[str, float]:
    """The image work a photo cannot avoid, in CPU milliseconds (median of ``rounds``, Pillow,
    ``process_time``): the upload decoded at the DCT scale covering the provider copy's size,
    that copy encoded (JPEG q92), the provider's answer decoded, and encoded for the booth (JPEG
    q95). What the server spends per photo beyond this is the gateway's own cost."""
    import io
    import statistics

    from PIL import Image

    side = max(Image.open(io.BytesIO(copy)).size)

    def decode() -> Image.Image:
        img = Image.open(io.BytesIO(photo))
        scale = max(img.size) / side
        img.draft("RGB", (int(img.width / scale), int(img.height / scale)))
        img.load()
        return img

    fitted = decode()
    fitted.thumbnail((side, side), Image.Resampling.BILINEAR)
    answered = Image.open(io.BytesIO(answer))
    answered.load()
    steps = {
        "decode": decode,
        "copy q92": lambda: fitted.save(io.BytesIO(), "JPEG", quality=92),
        "answer decode": lambda: Image.open(io.BytesIO(answer)).load(),
        "answer q95": lambda: answered.convert("RGB").save(io.BytesIO(), "JPEG", quality=95),
    }
    out = {}
    for name, step in steps.items():
        times = []
        for _ in range(rounds):
            start = time.process_time()
            step()
            times.append((time.process_time() - start) * 1000)
        out[name] = statistics.median(times)
    return out


LATE_SLOT = "slot-015"
LATE_PROVIDER_SECONDS = 14.0  # the late jobs' answers miss the 10 s deadline and arrive during the run


async def _start_late_jobs(service, fake, count: int, photo: bytes, prompt: str) -> list[str]:
    """Post ``count`` photos at once to a late-delivery slot whose answers come after the booth's
    deadline; returns their job ids once every booth got its original (the AI photos go on)."""
    await service.slot(LATE_SLOT, "gemini", prompt=prompt, on_failure="original", late_delivery_minutes=5,
                       max_in_flight=64)  # fmt: skip
    fake.reset(latency=LATE_PROVIDER_SECONDS)
    with ThreadPoolExecutor(count) as pool:
        answers = list(pool.map(lambda _n: service.post(LATE_SLOT, photo), range(count)))
    late = [a.headers["x-job-id"] for a in answers if a.headers.get("x-photochanger-late") == "continuing"]
    print(f"late jobs    {len(late)} of {count} handed off after the booth's deadline")
    return late


async def _late_outcomes(service, job_ids: list[str], wait: float = 60.0) -> dict[str, int]:
    """How the late jobs ended (waits up to ``wait`` seconds for those still being made)."""
    end = time.monotonic() + wait
    while True:
        states: dict[str, int] = {}
        for job_id in job_ids:
            state = (await service.job(job_id)).late_state or "none"
            states[state] = states.get(state, 0) + 1
        if "continuing" not in states or time.monotonic() > end:
            return states
        await asyncio.sleep(1)


if __name__ == "__main__":
    asyncio.run(main())
