"""Image checks and conversions."""

import io

import pytest
from PIL import Image

from photochanger.imaging import UnsupportedImage, check_and_normalise, convert, sniff_mime
from tests.conftest import PHOTOS


def _png(mode: str, size=(64, 48), color=(10, 200, 30, 0)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color[: len(mode)]).save(buffer, "PNG")
    return buffer.getvalue()


def test_sniff_recognises_only_jpeg_png_webp():
    assert sniff_mime((PHOTOS / "astronaut.jpg").read_bytes()[:16]) == "image/jpeg"
    assert sniff_mime((PHOTOS / "camera.png").read_bytes()[:16]) == "image/png"
    assert sniff_mime(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_mime(b"GIF89a") is None and sniff_mime(b"") is None


def test_dslr_frame_is_checked_and_downscaled(tmp_path):
    checked = check_and_normalise(PHOTOS / "astronaut_dslr_4500x3000.jpg", 2048)
    assert (checked.mime, checked.width, checked.height) == ("image/jpeg", 4500, 3000)
    assert checked.normalised.mime == "image/jpeg"
    assert (checked.normalised.width, checked.normalised.height) == (2048, 1365)


def test_transparent_png_stays_png_for_providers(tmp_path):
    path = tmp_path / "cutout.png"
    path.write_bytes(_png("RGBA"))
    assert check_and_normalise(path, 2048).normalised.mime == "image/png"


def test_signature_must_match_the_decoded_format(tmp_path):
    path = tmp_path / "liar.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + (PHOTOS / "astronaut.jpg").read_bytes())
    with pytest.raises(UnsupportedImage):
        check_and_normalise(path, 2048)


def test_convert_passes_same_format_through_untouched():
    data = (PHOTOS / "astronaut.jpg").read_bytes()
    assert convert(data, "image/jpeg").data is data


def test_convert_flattens_transparency_onto_white_for_jpeg():
    converted = convert(_png("RGBA"), "image/jpeg")
    img = Image.open(io.BytesIO(converted.data))
    assert img.format == "JPEG" and min(img.getpixel((5, 5))) > 245
