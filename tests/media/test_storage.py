"""Both media stores — the local folder and S3 (a real SeaweedFS) — keep files all or nothing,
answer the same way for missing keys, and refuse keys outside the store."""

import asyncio
import os
import socket
import stat

import pytest

from photochanger.storage import FolderStore, MediaStore, ObjectStore, open_store
from tests.tools.seaweedfs import SeaweedFS


@pytest.fixture(params=["folder", "s3"])
async def store(request, tmp_path, monkeypatch) -> MediaStore:
    if request.param == "folder":
        made: MediaStore = FolderStore(tmp_path / "media")
    else:
        server: SeaweedFS = request.getfixturevalue("seaweedfs")
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        made = ObjectStore(os.environ["PHOTOCHANGER_MEDIA_URL"], tmp_path / "scratch", server.endpoint)
    await made.ensure()
    return made


async def test_a_file_is_kept_read_described_and_deleted(store):
    data = os.urandom(700_000)
    await store.put("results/a.jpg", b"first")
    await store.put("results/a.jpg", data)
    assert await store.get("results/a.jpg") == data
    assert await store.read_prefix("results/a.jpg", 16) == data[:16]
    found = await store.stat("results/a.jpg")
    assert found is not None and found.size == len(data) and found.etag.startswith('"')
    assert b"".join([chunk async for chunk in store.stream("results/a.jpg")]) == data
    assert await store.delete("results/a.jpg") == len(data)
    assert await store.stat("results/a.jpg") is None
    assert await store.delete("results/a.jpg") == 0
    with pytest.raises(FileNotFoundError):
        await store.get("results/a.jpg")


async def test_an_upload_is_kept_from_its_scratch_file_and_stays_readable(store):
    temp = store.temp_path()
    temp.write_bytes(b"\xff\xd8\xff" + b"x" * 100_000)
    local = await store.put_file(temp, "originals/b.jpg")
    assert local.read_bytes()[:3] == b"\xff\xd8\xff"  # what the job decodes, until it deletes ``temp``
    assert await store.get("originals/b.jpg") == local.read_bytes()
    temp.unlink(missing_ok=True)
    assert (await store.stat("originals/b.jpg")).size == 100_003


async def test_the_readiness_probe_leaves_nothing(store):
    await store.probe()
    assert await store.stat("tmp/readyz.probe") is None


async def test_keys_cannot_leave_the_store(store):
    with pytest.raises(ValueError):
        await store.get("../etc/passwd")


async def test_a_failed_folder_write_leaves_the_old_file_and_nothing_else(tmp_path, monkeypatch):
    store = FolderStore(tmp_path)
    await store.ensure()
    await store.put("results/a.jpg", b"old")

    def broken_replace(_src, _dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("photochanger.storage.os.replace", broken_replace)
    with pytest.raises(OSError):
        await store.put("results/a.jpg", b"new but never complete")
    assert await store.get("results/a.jpg") == b"old"
    assert list((tmp_path / "tmp").iterdir()) == []


async def test_an_unreachable_bucket_is_an_os_error_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens once the socket closes
    store = ObjectStore("s3://nowhere/x", tmp_path, closed)
    with pytest.raises(OSError) as raised:
        await store.put("results/a.jpg", b"x")
    assert raised.type is OSError and "object storage write failed" in str(raised.value)


async def test_an_interrupted_s3_upload_leaves_no_object(seaweedfs, tmp_path, monkeypatch):
    """S3 makes an object visible only when its PUT completes: a body cut short is no object."""
    url = seaweedfs.media_url()
    port = int(seaweedfs.endpoint.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as conn:  # a client that dies mid-body
        head = f"PUT /{url[5:]}/results/cut.jpg HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n"
        conn.sendall(head.encode() + b"x" * 1000)
    await asyncio.sleep(0.5)
    for key, value in seaweedfs.env(url).items():
        monkeypatch.setenv(key, value)
    store = ObjectStore(url, tmp_path, seaweedfs.endpoint)
    assert await store.stat("results/cut.jpg") is None


def test_the_configuration_selects_the_store(tmp_path, monkeypatch):
    from photochanger.config import Config

    monkeypatch.delenv("PHOTOCHANGER_MEDIA_URL", raising=False)
    assert isinstance(open_store(Config(data_dir=tmp_path)), FolderStore)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    chosen = open_store(Config(data_dir=tmp_path, media_url="s3://photos/event", s3_endpoint_url="http://x:1"))
    assert isinstance(chosen, ObjectStore) and chosen.location == "s3://photos/event"
    with pytest.raises(ValueError):
        Config(data_dir=tmp_path, media_url="/var/media")


async def test_photos_are_owner_only_whatever_the_umask(tmp_path):
    old = os.umask(0)  # the most open umask: every file would be 0666, every folder 0777
    try:
        store = FolderStore(tmp_path / "media")
        await store.ensure()
        await store.put("results/a.jpg", b"edited")
        spooled = store.temp_path()
        spooled.write_bytes(b"original")
        await store.put_file(spooled, "originals/a.jpg")
    finally:
        os.umask(old)
    for folder in ("", "tmp", "originals", "results", "templates"):
        assert stat.S_IMODE((tmp_path / "media" / folder).stat().st_mode) == 0o700, folder
    for file in ("results/a.jpg", "originals/a.jpg"):
        assert stat.S_IMODE((tmp_path / "media" / file).stat().st_mode) == 0o600, file
