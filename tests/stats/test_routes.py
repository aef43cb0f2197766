"""Statistics: SQL aggregates agree with the job rows, on SQLite and PostgreSQL."""

import math
from datetime import timedelta

from sqlalchemy import select

from photochanger.db import utcnow
from photochanger.jobs.models import Job


def _nearest_rank(values: list[int], percent: int) -> int:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


async def test_overview_matches_the_jobs(svc, fake_gemini):
    await svc.slot("slot-013", "local")
    await svc.slot("slot-014", "gemini", prompt="Snow")
    for _ in range(3):
        svc.post("slot-013")
    svc.post("slot-013", b"junk")
    fake_gemini.reset("no_image", "success", "image_safety")
    svc.post("slot-014")
    svc.post("slot-014")
    overview = svc.api.get("/api/stats/overview", params={"window": "24h"}).json()
    async with svc.db.transaction() as session:
        jobs = list(await session.scalars(select(Job).where(Job.received_at >= utcnow() - timedelta(hours=24))))
    done = [j for j in jobs if j.status == "done"]
    late = [j for j in done if j.late_state == "delivered"]  # AI photos after the booth's deadline: apart
    totals = overview["totals"]
    assert totals["jobs"] == len(jobs) and totals["done"] == len(done) - len(late)
    assert totals["late_deliveries"] == len(late)
    assert totals["p95_total_ms"] == _nearest_rank([j.total_ms for j in done], 95)
    assert totals["p50_provider_ms"] == _nearest_rank([j.provider_ms for j in done], 50)
    s13 = [j for j in jobs if j.slot_id == "slot-013"]
    slot = overview["slots"]["slot-013"]
    assert slot["jobs"] == len(s13) and slot["failed_by_reason"].get("unsupported_media_type", 0) >= 1
    photos = [j for j in s13 if j.source == "ingest" and j.provider is not None]  # the junk upload is no photo
    assert slot["success_rate"] == round(sum(j.status == "done" for j in photos) / len(photos), 4)
    assert slot["rejected"] == sum(j.provider is None and j.status != "done" for j in s13) >= 1
    s14 = overview["slots"]["slot-014"]
    assert s14["retried_jobs"] >= 1 and s14["retries"] >= 1 and s14["failed_by_reason"]["content_rejected"] >= 1
    assert totals["storage_bytes"] == sum(
        (j.input_bytes or 0) + (j.result_bytes or 0) for j in jobs if j.media_purged_at is None
    )


async def test_timeseries_buckets_add_up(svc):
    await svc.slot("slot-013", "local")
    svc.post("slot-013")
    series = svc.api.get("/api/stats/timeseries", params={"window": "1h", "bucket": "5m"}).json()
    assert series["bucket"] == "5m" and 12 <= len(series["buckets"]) <= 13
    overview = svc.api.get("/api/stats/overview", params={"window": "1h"}).json()
    counted = sum(sum(b["counts"].values()) for b in series["buckets"])
    assert counted >= overview["totals"]["jobs"] >= 1
    assert series["buckets"][-1]["counts"].get("done", 0) >= 1 and series["buckets"][-1]["p95_total_ms"] is not None
    assert svc.api.get("/api/stats/overview", params={"window": "2d"}).status_code == 422
