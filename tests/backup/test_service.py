"""Backup and restore for real: a backup taken while booths post, the data folder (and on
PostgreSQL the database) wiped, the archive restored on a fresh one; every result link, the admin
login and the ingest password work again. A damaged archive is refused before anything changes."""

import concurrent.futures
import threading

import httpx
import pytest

from photochanger.auth import service as auth
from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, INGEST_PASSWORD, MINIMAL_HASHER, PG_URL, Service
from tests.tools.postgres import fresh_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="no PG"))])
async def database_pair(request, tmp_path):
    """(URL of the studio's database, URL of the new machine's empty one)."""
    if request.param == "sqlite":
        yield (
            f"sqlite+aiosqlite:///{tmp_path / 'old' / 'photochanger.db'}",
            f"sqlite+aiosqlite:///{tmp_path / 'new' / 'photochanger.db'}",
        )
        return
    async with fresh_database(PG_URL, "photochanger_old") as old, fresh_database(PG_URL, "photochanger_new") as new:
        yield old, new


async def test_a_backup_taken_while_booths_post_restores_every_result_and_login(database_pair, fake_gemini, tmp_path):
    old_url, new_url = database_pair
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    studio = Service(old_url, tmp_path / "old", fake_gemini, name="studio")
    studio.start()
    try:
        await auth.create_admin(studio.db, ADMIN_USER, ADMIN_PASSWORD, MINIMAL_HASHER)
        before = [studio.post("slot-001") for _ in range(3)]
        assert [r.status for r in before] == [200] * 3
        stop = threading.Event()

        def keep_posting() -> int:
            posted = 0
            while not stop.is_set():
                assert studio.post("slot-001").status == 200
                posted += 1
                stop.wait(0.3)  # a booth's pace (a shot every few seconds), not a CPU hog beside the backup
            return posted

        with concurrent.futures.ThreadPoolExecutor(1) as booth:
            busy = booth.submit(keep_posting)
            made = studio.cli_process("backup", str(tmp_path / "studio.tar"))
            stop.set()
            assert busy.result() >= 1  # the booth kept getting its photos during the backup
        assert made.returncode == 0 and "media files" in made.stdout, made.stderr
    finally:
        studio.stop()
        await studio.db.dispose()

    moved = Service(new_url, tmp_path / "new", fake_gemini, name="moved")  # another machine: nothing of the old
    restored = moved.cli_process("restore", str(tmp_path / "studio.tar"))
    assert restored.returncode == 0, restored.stderr
    moved.start()
    try:
        for answer in before:
            link = httpx.get(f"{moved.base_url}/public/results/{answer.headers['x-job-id']}")
            assert link.status_code == 200 and link.content == answer.body
        assert moved.login(ADMIN_USER, ADMIN_PASSWORD).status_code == 200  # accounts (and jwt.secret) came along
        assert moved.post("slot-001", password=INGEST_PASSWORD).status == 200
    finally:
        moved.stop()
        await moved.db.dispose()


def test_a_damaged_archive_is_refused_before_anything_changes(tmp_path):
    import io
    import json
    import tarfile

    from typer.testing import CliRunner

    from photochanger.cli import app

    archive = tmp_path / "damaged.tar"
    with tarfile.open(archive, "w") as tar:
        for name, data in [("database/photochanger.db", b"not what the manifest says"), ("manifest.json", b"")]:
            if name == "manifest.json":
                files = {"database/photochanger.db": {"size": 26, "sha256": "0" * 64}}
                data = json.dumps({"format": 1, "database": "sqlite", "files": files}).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(
        app, ["restore", str(archive)], env={"PHOTOCHANGER_DATA_DIR": str(data_dir), "PHOTOCHANGER_DATABASE_URL": None}
    )
    assert result.exit_code == 2 and "does not match the manifest" in result.stderr
    assert not data_dir.exists()  # verified before anything was written
