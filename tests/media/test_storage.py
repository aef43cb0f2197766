"""The media store writes all or nothing: a reader sees the old file or the whole new one, and a
failed write leaves no partial or temporary file."""

import pytest

from photochanger.media.storage import MediaStore


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path):
    store = MediaStore(tmp_path)
    store.ensure()
    store.write("results/a.jpg", b"first")
    store.write("results/a.jpg", b"second version")
    assert store.read("results/a.jpg") == b"second version"
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_failed_write_leaves_the_old_file_and_nothing_else(tmp_path, monkeypatch):
    store = MediaStore(tmp_path)
    store.ensure()
    store.write("results/a.jpg", b"old")

    def broken_replace(_src, _dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("photochanger.media.storage.os.replace", broken_replace)
    with pytest.raises(OSError):
        store.write("results/a.jpg", b"new but never complete")
    assert store.read("results/a.jpg") == b"old"
    assert list((tmp_path / "tmp").iterdir()) == []


def test_paths_cannot_leave_the_media_root(tmp_path):
    store = MediaStore(tmp_path)
    with pytest.raises(ValueError):
        store.path("../etc/passwd")
