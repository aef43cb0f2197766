"""Export of a big event: ``GET /api/events/{id}/export.zip`` of N photos (default 2,000) from a
real ``photochanger serve`` on SQLite with media in its folder.

One real booth photo (the 4500×3000 DSLR fixture through the ``local`` provider) makes the first
job; the other N − 1 are its row and files copied (distinct files, so the export reads N results
and, with ``--originals``, N originals). Prints the ZIP's size, the export's wall time and
throughput, the same files read back-to-back by plain Python (the disk's speed here: the
baseline), the server's RSS before and its peak during the export (``/proc/PID/clear_refs`` resets
VmHWM before it starts) and the booth's answer time p50/max for 10 photos before and during the
export.

``--cold`` empties the page cache (root on Linux) before the baseline read and before the export,
so both read from the disk.

Usage: python -m bench.export [--photos 2000] [--originals] [--cold] [--rounds 1]
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from bench.ingest_overhead import rss_mb
from bench.support import percentile, running_service
from photochanger.auth import service as auth_service
from photochanger.jobs.models import Job
from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, PHOTOS


def _drop_caches(cold: bool) -> None:
    """With ``cold``, empty the kernel's page cache (root on Linux) so reads come from the disk."""
    if cold:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3")


def _booth_times(service, photo: bytes, count: int) -> list[float]:
    return [service.post("slot-002", photo).elapsed for _ in range(count)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=2000)
    parser.add_argument("--originals", action="store_true", help="also export the originals")
    parser.add_argument("--cold", action="store_true", help="drop the page cache before each read (root)")
    parser.add_argument("--rounds", type=int, default=1, help="exports one after another (the first pays the imports)")
    args = parser.parse_args()
    async with running_service("export") as (service, _fake):
        await auth_service.create_admin(service.db, ADMIN_USER, ADMIN_PASSWORD)
        await service.slot("slot-001", "local")
        await service.slot("slot-002", "local")
        event = service.api.post("/api/events", json={"name": "Bench", "slot_ids": ["slot-001"]}).json()
        service.api.post(f"/api/events/{event['id']}/start")
        dslr = (PHOTOS / "astronaut_dslr_4500x3000.jpg").read_bytes()
        first = service.post("slot-001", dslr).headers["x-job-id"]
        async with service.db.transaction() as session:
            template = (await session.scalars(select(Job).where(Job.id == first))).one()
            columns = {c.key: getattr(template, c.key) for c in Job.__table__.columns}
        files: list[Path] = []
        rows = []
        for n in range(1, args.photos):
            job_id = uuid.uuid4().hex
            row = {**columns, "id": job_id, "received_at": columns["received_at"] + timedelta(milliseconds=n)}
            for key in ("input_path", "result_path"):
                source = service.media / columns[key]
                target = source.with_name(source.name.replace(first, job_id))
                shutil.copyfile(source, target)
                files.append(target)
                row[key] = str(Path(columns[key]).with_name(target.name))
            rows.append(row)
        async with service.db.transaction(write=True) as session:
            await session.execute(Job.__table__.insert(), rows)
        files += [service.media / columns["input_path"], service.media / columns["result_path"]]
        wanted = files if args.originals else [f for f in files if "result" in f.parent.name or "/results" in str(f)]

        _drop_caches(args.cold)
        start = time.perf_counter()
        read = sum(len(f.read_bytes()) for f in wanted)
        disk_seconds = time.perf_counter() - start

        alone = await asyncio.to_thread(_booth_times, service, dslr, 10)
        for _round in range(args.rounds):
            await _export(service, event, args, alone, dslr, read, disk_seconds)


async def _export(service, event, args, alone, dslr, read, disk_seconds) -> None:
    """One export alone (its memory), then one with booths posting beside it (their answer time)."""
    pid = service.proc.pid
    link = service.api.post(f"/api/events/{event['id']}/export-link", params={"originals": args.originals}).json()

    def download() -> tuple[int, float]:
        """The ZIP read as a browser would (curl into /dev/null when there is one, else httpx)."""
        began = time.perf_counter()
        if shutil.which("curl"):
            command = ["curl", "-sf", "-o", "/dev/null", "-w", "%{size_download}", f"{service.base_url}{link['url']}"]
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            return int(out.stdout), time.perf_counter() - began
        size = 0
        with httpx.stream("GET", f"{service.base_url}{link['url']}", timeout=600) as answer:
            answer.raise_for_status()
            for chunk in answer.iter_bytes():
                size += len(chunk)
        return size, time.perf_counter() - began

    _drop_caches(args.cold)
    before = rss_mb(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # noqa: ASYNC240 - VmHWM := VmRSS
    size, seconds = await asyncio.to_thread(download)
    peak = rss_mb(pid, "VmHWM")
    with ThreadPoolExecutor(1) as pool:
        exporting = asyncio.wrap_future(pool.submit(download))
        await asyncio.sleep(0.5)
        during = await asyncio.to_thread(_booth_times, service, dslr, 10)
        await exporting
    mib = 1024 * 1024
    print(f"photos {args.photos}, originals {args.originals}: ZIP {size / mib:.0f} MiB in {seconds:.1f} s "
          f"= {size / mib / seconds:.0f} MiB/s; the same files read by Python: {read / mib:.0f} MiB in "
          f"{disk_seconds:.1f} s = {read / mib / disk_seconds:.0f} MiB/s")  # fmt: skip
    print(f"server RSS before {before:.0f} MiB, peak during the export {peak:.0f} MiB (+{peak - before:.0f} MiB)")
    print(f"booth answer before: p50 {percentile(alone, 50):.2f} s, max {max(alone):.2f} s; during an export: "
          f"p50 {percentile(during, 50):.2f} s, max {max(during):.2f} s")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
