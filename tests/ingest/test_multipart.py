"""The streaming multipart reader on its own: any chunking of the body (boundaries split across
chunks, one byte at a time), the password checked when its part ends, limits."""

import hashlib

import pytest

from photochanger.ingest.multipart import FormError, PasswordRejected, ReceivedForm, UploadTooLarge, read_form
from tests.conftest import PHOTOS
from tests.tools import booth_post

pytestmark = pytest.mark.served  # the booth's wire format

PHOTO = (PHOTOS / "astronaut.jpg").read_bytes()
FIELDS = {"time": "1732180000", "user_id": "Acer", "id": "CY04N068111304S2L_00000003.", "profile": "Ä-ü"}


def _body(password: str = "secret-pw", photo: bytes = PHOTO) -> tuple[str, bytes]:
    return booth_post.build(photo, "IMG_0003.JPG", "image/jpeg", password, FIELDS)


async def _chunks(body: bytes, size: int):
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def _read(body: bytes, ctype: str, path, size: int, limit: int = 10_000_000) -> ReceivedForm:
    form = ReceivedForm()
    await read_form(form, _chunks(body, size), ctype, path, limit, lambda value: value == "secret-pw")
    return form


@pytest.mark.parametrize("chunk", [1, 7, 70, 4096, 65536, 10**9])
async def test_any_chunking_gives_the_same_form(tmp_path, chunk):
    ctype, body = _body()
    if chunk == 1:  # one byte at a time: a small photo, to stay fast
        ctype, body = booth_post.build(b"\xff\xd8\xff" + b"x" * 500, "a.jpg", "image/jpeg", "secret-pw", FIELDS)
    form = await _read(body, ctype, tmp_path / "photo", chunk)
    data = (tmp_path / "photo").read_bytes()
    assert FIELDS.items() <= form.fields.items() and form.password == "secret-pw" and form.file_field == "fileToUpload"
    assert form.file_bytes == len(data) and form.sha256 == hashlib.sha256(data).hexdigest()
    assert form.declared_mime == "image/jpeg" and form.filename in ("IMG_0003.JPG", "a.jpg")
    assert "password" not in form.fields  # never stored


async def test_a_boundary_split_across_every_position_of_two_chunks(tmp_path):
    ctype, body = booth_post.build(b"\xff\xd8\xff" + b"y" * 300, "a.jpg", "image/jpeg", "secret-pw", FIELDS)
    boundary = ctype.split("boundary=")[1].encode()
    at = body.index(b"--" + boundary, 10)  # the boundary after the first part
    for cut in range(at, at + len(boundary) + 4):

        async def two(cut=cut):
            yield body[:cut]
            yield body[cut:]

        form = ReceivedForm()
        await read_form(form, two(), ctype, tmp_path / "p", 10_000, lambda value: value == "secret-pw")
        assert FIELDS.items() <= form.fields.items() and form.file_bytes == 303


async def test_a_wrong_password_stops_the_upload_when_its_part_ends(tmp_path):
    ctype, body = _body(password="guess")
    with pytest.raises(PasswordRejected):
        await _read(body, ctype, tmp_path / "photo", 4096)


async def test_the_photo_is_refused_as_soon_as_it_passes_the_limit(tmp_path):
    ctype, body = _body()
    with pytest.raises(UploadTooLarge):
        await _read(body, ctype, tmp_path / "photo", 4096, limit=len(PHOTO) - 1)


@pytest.mark.parametrize(
    ("ctype", "cut"),
    [("text/plain", None), ("multipart/form-data", None), (None, 100)],  # no boundary; cut short
)
async def test_malformed_bodies_are_form_errors(tmp_path, ctype, cut):
    real_ctype, body = _body()
    with pytest.raises(FormError):
        await _read(body[:cut] if cut else body, ctype or real_ctype, tmp_path / "photo", 4096)
