"""Image checks and conversions."""

import io
import struct

import pytest
from PIL import Image

from photochanger.imaging import UnsupportedImage, check_answer, convert, prepare, sniff_mime
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
    checked = prepare(PHOTOS / "astronaut_dslr_4500x3000.jpg", 2048)
    assert (checked.mime, checked.width, checked.height) == ("image/jpeg", 4500, 3000)
    assert checked.copy.mime == "image/jpeg"
    assert (checked.copy.width, checked.copy.height) == (2250, 1500)  # DCT 1/2: within 10 % of 2048


def test_copy_at_each_model_size_and_full_size():
    path = PHOTOS / "astronaut_dslr_4500x3000.jpg"
    assert (prepare(path, 1024).copy.width, prepare(path, 1536).copy.width) == (1125, 1536)  # 1125: DCT 1/4
    assert (prepare(path, None).copy.width, prepare(path, 8192).copy.width) == (4500, 4500)  # never enlarged


@pytest.mark.parametrize("side, expected", [(None, (300, 800)), (400, (150, 400))])
def test_exif_orientation_is_applied_at_full_and_scaled_decode(side, expected):
    img = Image.new("RGB", (800, 300), (200, 30, 30))
    img.paste((30, 30, 200), (0, 0, 400, 300))  # left half blue: after a 90° clockwise turn, the top
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display" (EXIF 2.32, Orientation tag)
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=90, exif=exif)
    copy = prepare(buffer.getvalue(), side).copy
    assert (copy.width, copy.height) == expected
    turned = Image.open(io.BytesIO(copy.data)).convert("RGB")
    top, bottom = turned.getpixel((expected[0] // 2, 5)), turned.getpixel((expected[0] // 2, expected[1] - 5))
    assert top[2] > 150 > top[0] and bottom[0] > 150 > bottom[2]


def test_scaled_decode_within_five_percent_is_sent_as_it_is(tmp_path):
    path = tmp_path / "wide.jpg"
    Image.new("RGB", (4400, 2000), (90, 120, 200)).save(path, "JPEG")
    assert prepare(path, 1050).copy.width == 1100  # DCT 1/4 decode: 1100 px is within 10 % of 1050


def test_inspect_sees_the_decoded_photo_once():
    seen = []
    prepare(PHOTOS / "astronaut_dslr_4500x3000.jpg", 1024, inspect=lambda img: seen.append(img.size) or 7)
    assert seen == [(1125, 750)]  # the 1/4 DCT-scaled decode, not 13.5 MP


def test_pixel_limit_refuses_before_decoding(tmp_path):
    path = tmp_path / "big.png"
    Image.new("L", (9000, 6000)).save(path, "PNG")  # 54 MP of zeros: a few kB on disk
    with pytest.raises(UnsupportedImage, match="pixel limit"):
        prepare(path, 1024)


def test_jpeg_whose_header_claims_more_pixels_than_its_data_holds_is_refused(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, "JPEG")
    data = buffer.getvalue()
    sof = data.index(b"\xff\xc0")
    path = tmp_path / "liar.jpg"
    path.write_bytes(data[: sof + 5] + struct.pack(">HH", 5000, 5000) + data[sof + 9 :])
    with pytest.raises(UnsupportedImage, match="truncated or forged"):
        prepare(path, 1024)


@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("side", [1024, None])
def test_jpeg_whose_entropy_data_runs_out_before_its_declared_size_is_refused(tmp_path, progressive, side):
    buffer = io.BytesIO()  # 512 × 512 of real, high-quality data (~90 KB: enough bytes for the pixel rule)
    Image.open(PHOTOS / "astronaut.jpg").convert("RGB").resize((512, 512)).save(
        buffer, "JPEG", quality=95, progressive=progressive
    )
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc2" if progressive else b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 4000, 4000)  # the header now claims 4000 × 4000
    path = tmp_path / "forged.jpg"
    path.write_bytes(bytes(data))
    with pytest.raises(UnsupportedImage, match="truncated or corrupt"):
        prepare(path, side)


def test_the_strict_scaled_decode_matches_pillows():
    data = (PHOTOS / "astronaut_dslr_4500x3000.jpg").read_bytes()
    ours = Image.open(io.BytesIO(prepare(data, 1024).copy.data)).convert("RGB")
    pillow = Image.open(io.BytesIO(data))
    pillow.draft("RGB", (1024, 682))
    pillow = pillow.convert("RGB")
    assert ours.size == pillow.size == (1125, 750)
    difference = [abs(a - b) for a, b in zip(ours.tobytes()[::997], pillow.tobytes()[::997], strict=True)]
    assert sum(difference) / len(difference) < 3  # only the provider copy's JPEG generation apart


def test_truncated_jpeg_is_refused(tmp_path):
    path = tmp_path / "cut.jpg"
    path.write_bytes((PHOTOS / "astronaut.jpg").read_bytes()[:20000])
    with pytest.raises(UnsupportedImage, match="truncated"):
        prepare(path, 1024)


def test_sixteen_bit_greyscale_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "grey16.png"
    ramp = Image.linear_gradient("L").resize((256, 64)).convert("I")
    ramp.point(lambda v: v * 257).convert("I;16").save(path, "PNG")
    copy = Image.open(io.BytesIO(prepare(path, 1024).copy.data))
    assert copy.getpixel((0, 0))[0] < 10 and 100 < copy.getpixel((128, 32))[0] < 160  # mid-grey stays mid-grey


def _sample(mode: str) -> Image.Image:
    img = Image.linear_gradient("L").resize((96, 64))
    return img.convert("I").convert("I;16") if mode == "I;16" else img.convert(mode)


def _writable() -> list[tuple[str, str]]:
    """Every (mode, format) pair Pillow can write: what a booth or a provider could send."""
    pairs = []
    for mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16", "CMYK", "YCbCr", "F"):
        for fmt in ("JPEG", "PNG", "WEBP"):
            try:
                _sample(mode).save(io.BytesIO(), fmt)
            except (OSError, KeyError, ValueError):
                continue
            pairs.append((mode, fmt))
    return pairs


@pytest.mark.parametrize(("mode", "fmt"), _writable())
def test_every_mode_round_trips(tmp_path, mode, fmt):
    path = tmp_path / f"photo.{fmt.lower()}"
    _sample(mode).save(path, fmt)
    back = Image.open(io.BytesIO(prepare(path, 1024).copy.data))
    assert back.size == (96, 64) and back.mode in ("RGB", "RGBA")
    assert check_answer(path.read_bytes(), "image/jpeg").image.mime == "image/jpeg"


def test_answer_decoded_once_then_converted_or_passed_through():
    png = (PHOTOS / "camera.png").read_bytes()
    seen = []
    answer = check_answer(png, "image/jpeg", inspect=lambda img: seen.append(img.mode) or 2)
    assert answer.image.mime == "image/jpeg" and answer.inspected == 2 and len(seen) == 1
    assert check_answer(png, "image/png").image.data is png


def test_transparent_png_stays_png_for_providers(tmp_path):
    path = tmp_path / "cutout.png"
    path.write_bytes(_png("RGBA"))
    assert prepare(path, 2048).copy.mime == "image/png"


def test_signature_must_match_the_decoded_format(tmp_path):
    path = tmp_path / "liar.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + (PHOTOS / "astronaut.jpg").read_bytes())
    with pytest.raises(UnsupportedImage):
        prepare(path, 2048)


def test_convert_passes_same_format_through_untouched():
    data = (PHOTOS / "astronaut.jpg").read_bytes()
    assert convert(data, "image/jpeg").data is data


def test_convert_flattens_transparency_onto_white_for_jpeg():
    converted = convert(_png("RGBA"), "image/jpeg")
    img = Image.open(io.BytesIO(converted.data))
    assert img.format == "JPEG" and min(img.getpixel((5, 5))) > 245
