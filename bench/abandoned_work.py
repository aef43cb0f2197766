"""Abandoned work: what a photo nobody waits for still costs, and what it costs the others.

A ``local`` slot (full-size renders) with a 10 s deadline gets ``--heavy`` frames of about 49 MP at
once; the booth gives up on them at the deadline (504). Printed: each heavy answer and its time,
the server's CPU seconds in the ``--after`` seconds after the last answer (work for photos nobody
waits for), then the time of one small photo posted while ``--beside`` heavy frames run.

    python -m bench.abandoned_work [--heavy 4] [--beside 6] [--after 15]
"""

import argparse
import asyncio
import io
import tempfile
import time
from pathlib import Path

from PIL import Image

from bench.ingest_overhead import cpu_seconds
from bench.support import running_service
from tests.conftest import PHOTOS


def _frame(folder: Path) -> Path:
    """A 8600 × 5700 JPEG (49 MP) made from the DSLR fixture."""
    path = folder / "frame-49mp.jpg"
    with Image.open(PHOTOS / "astronaut_dslr_4500x3000.jpg") as img:
        img.convert("RGB").resize((8600, 5700), Image.Resampling.BILINEAR).save(path, "JPEG", quality=90)
    return path


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heavy", type=int, default=4, help="49 MP frames posted at once")
    parser.add_argument("--beside", type=int, default=6, help="49 MP frames running beside the small photo")
    parser.add_argument("--after", type=float, default=15.0, help="seconds of CPU watched after the answers")
    args = parser.parse_args()
    frame = _frame(Path(tempfile.mkdtemp(prefix="photochanger-abandoned-")))
    print(f"frame        {frame.stat().st_size / 1e6:.1f} MB, 8600×5700")
    env = {"MAX_UPLOAD_MB": "60", "MAX_IMAGE_PIXELS": "60000000"}
    async with running_service("abandoned", **env) as (svc, _fake):
        await svc.setting("sync_response_seconds", 10)
        await svc.slot("slot-001", "local", settings={"look": "vivid"}, max_in_flight=16)
        await svc.slot("slot-002", "local", settings={"look": "vivid"}, max_in_flight=16)
        pid = svc.proc.pid
        heavy = await asyncio.gather(*(asyncio.to_thread(svc.post, "slot-001", frame) for _ in range(args.heavy)))
        answered = time.monotonic()
        for answer in heavy:
            reason = "" if answer.status == 200 else f" {answer.json()['failure_reason']}"
            print(f"heavy        {answer.status}{reason} after {answer.elapsed:.1f} s")
        before = cpu_seconds(pid)
        await asyncio.sleep(args.after)
        print(f"CPU after    {cpu_seconds(pid) - before:.2f} CPU-s in the {time.monotonic() - answered:.0f} s after")
        small = io.BytesIO()
        with Image.open(PHOTOS / "astronaut.jpg") as img:
            img.save(small, "JPEG", quality=90)
        running = [asyncio.create_task(asyncio.to_thread(svc.post, "slot-001", frame)) for _ in range(args.beside)]
        await asyncio.sleep(1.5)  # the heavy frames are being decoded
        beside = await asyncio.to_thread(svc.post, "slot-002", small.getvalue())
        reason = "" if beside.status == 200 else f" {beside.json()['failure_reason']}: {beside.json()['detail']}"
        print(f"small photo  {beside.status}{reason} in {beside.elapsed:.2f} s beside {args.beside} heavy frames")
        await asyncio.gather(*running)


if __name__ == "__main__":
    asyncio.run(main())
