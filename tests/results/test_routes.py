"""Public result downloads, their TTL, and the cleanup command."""

import os
import time
from datetime import timedelta

from photochanger.db import utcnow
from tests.conftest import PHOTOS


async def _expire(svc, job_id: str) -> None:
    from photochanger.jobs import repository

    async with svc.db.transaction() as session:
        await repository.update_fields(session, job_id, {"result_expires_at": utcnow() - timedelta(minutes=1)})


async def test_result_inline_and_as_download(svc):
    await svc.slot("slot-001", "local", settings={"look": "warm"})
    r = svc.post("slot-001", PHOTOS / "astronaut.jpg")
    inline = svc.http.get(r.headers["x-result-url"].replace("/r/", "/public/results/"))
    assert inline.status_code == 200 and inline.content == r.body
    assert inline.headers["content-type"] == "image/jpeg" and inline.headers["content-disposition"].startswith("inline")
    download = svc.http.get(r.headers["x-result-url"].replace("/r/", "/public/results/"), params={"download": "1"})
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment") and 'filename="photochanger-slot-001-' in disposition
    assert disposition.endswith('.jpg"') and r.headers["x-job-id"][:8] in disposition


async def test_unknown_and_failed_jobs_are_404(svc):
    for job_id in ["0" * 32, "../../etc/passwd", "not-a-job"]:
        r = svc.http.get(f"/public/results/{job_id}")
        assert r.status_code == 404 and r.json()["failure_reason"] in ("result_not_found", "not_found")
    await svc.slot("slot-001", "local")
    failed = svc.post("slot-001", b"not an image")
    r = svc.http.get(f"/public/results/{failed.json()['job_id']}")
    assert r.status_code == 404 and r.json()["failure_reason"] == "result_not_found"


async def test_expired_result_is_410_even_while_the_file_exists(svc):
    await svc.slot("slot-001", "local")
    r = svc.post("slot-001")
    job_id = r.headers["x-job-id"]
    await _expire(svc, job_id)
    gone = svc.http.get(r.headers["x-result-url"].replace("/r/", "/public/results/"))
    assert gone.status_code == 410 and gone.json()["failure_reason"] == "result_expired"
    assert (svc.media / (await svc.job(job_id)).result_path).exists()


async def test_a_result_whose_file_is_missing_is_410_and_logged(svc):
    await svc.slot("slot-001", "local")
    r = svc.post("slot-001")
    job_id = r.headers["x-job-id"]
    (svc.media / (await svc.job(job_id)).result_path).unlink()  # gone by hand, not by the cleanup
    gone = svc.http.get(r.headers["x-result-url"].replace("/r/", "/public/results/"))
    assert gone.status_code == 410 and gone.json()["failure_reason"] == "result_expired"
    assert any("result.file_missing" in line and job_id in line for line in svc.log_path.read_text().splitlines())


async def test_cleanup_dry_run_reports_and_real_run_deletes(svc):
    await svc.slot("slot-001", "local")
    r = svc.post("slot-001")
    job_id = r.headers["x-job-id"]
    await _expire(svc, job_id)
    job = await svc.job(job_id)
    files = [svc.media / job.input_path, svc.media / job.result_path]
    stale = svc.media / "tmp" / "abandoned.part"
    stale.write_bytes(b"partial")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    dry = svc.cli("cleanup", "--dry-run")
    assert dry.returncode == 0 and "would remove" in dry.stdout and "1 temp files" in dry.stdout
    assert all(f.exists() for f in files) and stale.exists()
    assert (await svc.job(job_id)).media_purged_at is None
    real = svc.cli("cleanup")
    assert real.returncode == 0 and "removed" in real.stdout
    assert not any(f.exists() for f in files) and not stale.exists()
    assert (await svc.job(job_id)).media_purged_at is not None
    assert svc.http.get(r.headers["x-result-url"].replace("/r/", "/public/results/")).status_code == 410
