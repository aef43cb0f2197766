"""The whole service on S3 media (a real SeaweedFS): a booth photo's original and result become
objects, every public and admin link serves them from the bucket, Turbotext fetches its input
from it, and deletion and TTL cleanup remove the objects. Nothing stays in the local folder but
the scratch space, which is empty after each photo."""

import asyncio
import io
from datetime import timedelta

import httpx
import pytest
from PIL import Image
from sqlalchemy import update

from photochanger.auth import service as auth_service
from photochanger.db import utcnow
from photochanger.jobs.models import Job
from photochanger.storage import ObjectStore
from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, MINIMAL_HASHER, PHOTOS, Service
from tests.fakes.s3_faults import S3Faults
from tests.tools.processes import allowed

PRESIGN_SECONDS = 60


@pytest.fixture(scope="module")
async def on_s3(seaweedfs, fake_gemini, fake_openai, fake_turbotext, tmp_path_factory):
    """One server (SQLite) whose media lives under a fresh prefix of the SeaweedFS bucket, with
    result downloads redirected to presigned URLs."""
    data_dir = tmp_path_factory.mktemp("s3-data")
    running = Service(
        f"sqlite+aiosqlite:///{data_dir / 'photochanger.db'}",
        data_dir,
        fake_gemini,
        openai_url=fake_openai.url,
        turbotext_url=fake_turbotext.url,
    )
    url = seaweedfs.media_url()
    running.env.update(seaweedfs.env(url), PHOTOCHANGER_S3_PRESIGN_SECONDS=str(PRESIGN_SECONDS))
    await asyncio.to_thread(running.start)
    await auth_service.create_admin(running.db, ADMIN_USER, ADMIN_PASSWORD, MINIMAL_HASHER)
    with pytest.MonkeyPatch.context() as patch:  # the test's own view of the bucket: credentials only
        for key, value in seaweedfs.env(url).items():
            if key.startswith("AWS_"):
                patch.setenv(key, value)
        running.bucket = ObjectStore(url, data_dir / "scratch", seaweedfs.endpoint)
    yield running
    running.stop()
    await running.db.dispose()


def _local_media(svc: Service) -> list[str]:
    return sorted(str(p.relative_to(svc.media)) for p in svc.media.rglob("*") if p.is_file())


async def test_a_booth_photo_lives_in_the_bucket_and_every_link_serves_it(on_s3, fake_gemini):
    svc = on_s3
    await svc.slot("slot-001", "gemini", prompt="sepia")
    photo = (PHOTOS / "astronaut.jpg").read_bytes()
    r = svc.post("slot-001", photo)
    assert r.status == 200, r.body
    job_id = r.headers["x-job-id"]
    keys = await svc.bucket.keys()
    assert f"originals/{job_id}.jpg" in keys and f"results/{job_id}.jpg" in keys
    assert _local_media(svc) == []  # nothing kept on this machine, no upload left in scratch
    assert await svc.bucket.get(f"originals/{job_id}.jpg") == photo

    result = httpx.get(f"{svc.base_url}/public/results/{job_id}")
    assert result.status_code == 307 and "X-Amz-Signature=" in result.headers["location"]
    assert f"X-Amz-Expires={PRESIGN_SECONDS}" in result.headers["location"]
    assert httpx.get(result.headers["location"]).content == r.body  # straight from the bucket

    thumb = httpx.get(f"{svc.base_url}/public/results/{job_id}/thumbnail")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 320
    assert int(thumb.headers["content-length"]) == len(thumb.content)
    again = httpx.get(thumb.url, headers={"If-None-Match": thumb.headers["etag"]})
    assert again.status_code == 304 and not again.content
    assert f"results/{job_id}.thumb.jpg" in await svc.bucket.keys()

    assert httpx.get(f"{svc.base_url}/r/{job_id}").status_code == 200
    original = svc.api.get(f"/api/jobs/{job_id}/original")
    assert original.status_code == 200 and original.content == photo
    assert original.headers["content-type"] == "image/jpeg"


async def test_a_rerun_reads_its_original_from_the_bucket(on_s3, fake_gemini):
    svc = on_s3
    await svc.slot("slot-002", "gemini", prompt="sepia")
    fake_gemini.reset()
    first = svc.post("slot-002")
    assert first.status == 200
    rerun = svc.api.post(f"/api/jobs/{first.headers['x-job-id']}/rerun")
    assert rerun.status_code == 200, rerun.text
    assert len(fake_gemini.requests) == 2


async def test_turbotext_fetches_its_input_from_the_bucket(on_s3, fake_turbotext):
    svc = on_s3
    await svc.slot("slot-006", "turbotext", prompt="oil painting")
    fake_turbotext.reset(reconnects=0)
    assert svc.post("slot-006").status == 200
    [queue] = fake_turbotext.queues.values()
    assert queue.fetched["url"][0] == 200 and queue.fetched["url"][1][:3] == b"\xff\xd8\xff"
    assert any(key.startswith("provider-media/") for key in await svc.bucket.keys())


async def test_deleting_a_photo_and_ttl_cleanup_remove_its_objects(on_s3):
    svc = on_s3
    await svc.slot("slot-003", "local")
    deleted, expired = svc.post("slot-003"), svc.post("slot-003")
    assert deleted.status == expired.status == 200
    gone_id, old_id = deleted.headers["x-job-id"], expired.headers["x-job-id"]
    assert httpx.get(f"{svc.base_url}/public/results/{gone_id}/thumbnail").status_code == 200

    assert svc.api.delete(f"/api/jobs/{gone_id}/media").status_code in (200, 204)
    assert not [k for k in await svc.bucket.keys() if gone_id in k]
    assert httpx.get(f"{svc.base_url}/public/results/{gone_id}").status_code == 410

    async with svc.db.transaction() as session:
        past = utcnow() - timedelta(minutes=1)
        await session.execute(update(Job).where(Job.id == old_id).values(result_expires_at=past))
    assert [k for k in await svc.bucket.keys() if old_id in k]
    cleaned = svc.cli("cleanup")
    assert cleaned.returncode == 0, cleaned.stderr
    assert not [k for k in await svc.bucket.keys() if old_id in k]
    assert httpx.get(f"{svc.base_url}/public/results/{old_id}").status_code == 410


async def test_readiness_proves_a_bucket_write(on_s3):
    ready = httpx.get(f"{on_s3.base_url}/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["media"] == "ok"


@pytest.fixture(scope="module")
async def faulty_s3(seaweedfs, fake_gemini, tmp_path_factory):
    """A server whose bucket is reached through a proxy that can fail or hang requests."""
    proxy = S3Faults(seaweedfs.endpoint).start()
    data_dir = tmp_path_factory.mktemp("s3-faults")
    running = Service(f"sqlite+aiosqlite:///{data_dir / 'photochanger.db'}", data_dir, fake_gemini, name="faults")
    running.env.update(seaweedfs.env(), PHOTOCHANGER_S3_ENDPOINT_URL=proxy.url)
    await asyncio.to_thread(running.start)
    running.proxy = proxy
    await running.slot("slot-001", "local")
    yield running
    running.stop()
    proxy.stop()
    await running.db.dispose()


async def test_a_store_refusing_results_still_gives_the_guest_the_edited_photo(faulty_s3):
    svc = faulty_s3
    with svc.proxy.failing("error", "PUT", r"/results/"):
        r = svc.post("slot-001")
    assert r.status == 200 and r.body[:3] == b"\xff\xd8\xff" and r.elapsed < allowed(10)  # retries are bounded
    job = await svc.job(r.headers["x-job-id"])
    assert job.status == "done" and job.result_path is None and job.input_path is not None
    assert svc.proxy.failed >= 1


async def test_a_hung_store_delays_the_guest_seconds_not_the_deadline(faulty_s3):
    svc = faulty_s3
    with svc.proxy.failing("hang", "PUT", r"/results/"):
        r = svc.post("slot-001")
    assert r.status == 200 and r.elapsed < allowed(5 + 3)  # RESULT_WRITE_SECONDS, not the 48 s deadline
    assert (await svc.job(r.headers["x-job-id"])).status == "done"


async def test_a_store_refusing_originals_is_a_clean_503(faulty_s3):
    svc = faulty_s3
    with svc.proxy.failing("error", "PUT", r"/originals/"):
        r = svc.post("slot-001")
    assert r.status == 503 and r.json()["failure_reason"] == "storage_unavailable" and r.elapsed < allowed(10)
    assert r.headers["retry-after"] == "30"
    assert svc.post("slot-001").status == 200  # and the next guest is served once the store is back
