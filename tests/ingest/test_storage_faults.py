"""A bad day for the disk and the database: a locked database, a full media disk, deleted media
folders. The booth gets a clean answer (or its edited photo) and nothing is lost."""

import asyncio
import shutil
import sqlite3
import subprocess
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import make_url

from tests.conftest import PHOTOS, InProcessService
from tests.tools.processes import allowed

PHOTO = PHOTOS / "astronaut.jpg"


async def test_a_locked_database_gives_a_clean_503_and_ingest_recovers(svc):
    await svc.slot("slot-012", "local")
    url = make_url(svc.db.url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(url.database, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another writer holds the database past the 5 s busy timeout
        release = holder.rollback
    else:
        holder = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("LOCK TABLE jobs IN EXCLUSIVE MODE")  # writes wait past the 5 s lock_timeout
        release = transaction.rollback
    try:  # four booths at once: each fails within twice the 5 s timeout, not after the ones before it
        answers = await asyncio.gather(*(asyncio.to_thread(svc.post, "slot-012", PHOTO) for _ in range(4)))
    finally:
        result = release()
        if asyncio.iscoroutine(result):
            await result
            await holder.close()
        else:
            holder.close()
    for locked in answers:
        assert locked.status == 503 and locked.json()["failure_reason"] == "storage_unavailable", locked.body[:300]
        assert locked.headers["retry-after"] == "30" and locked.elapsed < allowed(12.5)
    assert svc.post("slot-012", PHOTO).status == 200
    assert svc.http.get("/readyz").json()["checks"]["database"] == "ok"


async def test_deleted_media_folders_are_recreated(svc):
    await svc.slot("slot-012", "local")
    for folder in ("tmp", "originals", "results"):
        shutil.rmtree(svc.media / folder)
    r = svc.post("slot-012", PHOTO)
    assert r.status == 200, r.body[:300]
    job = await svc.job(r.headers["x-job-id"])
    assert (svc.media / job.input_path).is_file() and (svc.media / job.result_path).is_file()


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs (needs root and mount; skipped otherwise)."""
    mount = tmp_path / "media"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` until about ``leave`` bytes are free."""
    free = shutil.disk_usage(disk).free
    (disk / "ballast").write_bytes(b"\0" * max(0, free - leave))


async def test_a_full_media_disk_answers_503_or_still_returns_the_edited_photo(
    small_disk, tmp_path, fake_gemini, fake_openai, fake_turbotext
):
    (tmp_path / "data").mkdir()
    service = InProcessService(
        f"sqlite+aiosqlite:///{tmp_path / 'faults.db'}",
        tmp_path / "data",
        fake_gemini,
        openai_url=fake_openai.url,
        turbotext_url=fake_turbotext.url,
        name="faults",
    )
    service.env.update({"PHOTOCHANGER_MEDIA_ROOT": str(small_disk), "PHOTOCHANGER_MIN_FREE_DISK_MB": "0"})
    service.media = small_disk
    await asyncio.to_thread(service.start)
    try:
        await service.slot("slot-003", "local", settings={"look": "sepia"})
        _fill(small_disk, leave=16 * 1024)  # not even the original fits
        full = service.post("slot-003", PHOTO)
        assert full.status == 503 and full.json()["failure_reason"] == "storage_unavailable", full.body[:300]
        assert "/" not in full.json()["detail"] and not list((small_disk / "tmp").glob("*.part"))

        (small_disk / "ballast").unlink()
        _fill(small_disk, leave=PHOTO.stat().st_size + 24 * 1024)  # the original fits, the result does not
        billed = service.post("slot-003", PHOTO)
        assert billed.status == 200 and billed.headers["content-type"] == "image/jpeg"  # the guest gets it
        job = await service.job(billed.headers["x-job-id"])
        assert job.status == "done" and job.input_path and job.result_path is None
        assert not list((small_disk / "tmp").glob("*.part"))
        ready = service.http.get("/readyz").json()
        assert ready["checks"]["database"] == "ok"
    finally:
        service.stop()
        await service.db.dispose()


async def test_readiness_fails_while_a_photo_folder_refuses_writes(svc):
    originals = svc.media / "originals"
    aside = svc.media / "originals.aside"
    originals.rename(aside)
    originals.write_bytes(b"")  # a file where the folder was: every write into it fails (also for root)
    try:
        ready = svc.http.get("/readyz", timeout=30)
        assert ready.status_code == 503 and ready.json()["checks"]["media"] != "ok", ready.text
    finally:
        originals.unlink()
        aside.rename(originals)
    assert svc.http.get("/readyz", timeout=30).status_code == 200
