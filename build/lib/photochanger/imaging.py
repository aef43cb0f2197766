"""Image checks and conversions with Pillow. CPU-bound: call from a worker pool
(:mod:`photochanger.workers`), never on the event loop.

Accepted formats: JPEG, PNG, WebP, identified by magic bytes (JPEG ``FF D8 FF``, PNG
``89 50 4E 47 0D 0A 1A 0A``, WebP ``RIFF....WEBP``) and confirmed by a real decode.

Memory is bounded before any pixel is decoded: the header's width × height must be within the
pixel limit (default :data:`DEFAULT_MAX_PIXELS`), so a 4 KB WebP that claims 100 MP is refused
with no allocation; a JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8) that still covers
the size asked for, so a 4500 × 3000 photo for a 1024 px provider copy allocates 1125 × 750
pixels, not 13.5 MP. A file whose data ends early (truncated, or a tiny JPEG whose header claims
10000 × 10000) is refused: the decoder must consume real data for every row (uploaded JPEGs are
decoded by libjpeg-turbo in strict mode, which also refuses entropy data that runs out before the
frame is filled).
"""

import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from PIL import Image, ImageFile, ImageOps

MIME_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSION_BY_MIME = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
OUTPUT_QUALITY = 95  # JPEG/WebP quality of results returned to the booth
PROVIDER_JPEG_QUALITY = 92  # quality of the normalised photo sent to providers
DEFAULT_MAX_PIXELS = 50_000_000  # 50 MP: above every booth camera's frame (a 45 MP DSLR is 8192 × 5464)
# A scaled decode at most 10 % over the target side is sent as it is: DCT scales are powers of two,
# so a 4500 px frame decodes at 1125 px for a 1024 px target; resampling those last 10 % costs
# more CPU (~16 ms in Pillow) than the ~20 kB it saves cost on a 10 Mbit/s uplink.
SKIP_RESAMPLE_WITHIN = 1.10
MIN_BYTES_PER_MEGAPIXEL = 2_000  # less compressed data than this per MP cannot be a real photo's
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")

ImageFile.LOAD_TRUNCATED_IMAGES = False  # never fill a truncated image with grey


class UnsupportedImage(ValueError):
    """The bytes are not a complete JPEG/PNG/WebP image within the pixel limit."""


def sniff_mime(head: bytes) -> str | None:
    """MIME type from the first 12+ bytes, or None if not JPEG/PNG/WebP."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True)
class EncodedImage:
    """Encoded image bytes with MIME type and size in pixels."""

    data: bytes
    mime: str
    width: int
    height: int


@dataclass(frozen=True)
class PreparedPhoto:
    """An upload that passed the checks: its own MIME type and size (pixels, as stored), the
    provider copy, and what ``inspect`` (e.g. a face count) said of the decoded photo."""

    mime: str
    width: int
    height: int
    copy: EncodedImage
    inspected: object = None


@dataclass(frozen=True)
class CheckedAnswer:
    """A provider's answer decoded once: the image for the booth (in the MIME type asked for) and
    what ``inspect`` said of the decoded answer."""

    image: EncodedImage
    inspected: object = None


def _open_checked(source: Path | bytes, max_pixels: int) -> tuple[Image.Image, str]:
    """Open (header only) and check signature, format and the pixel limit."""
    if isinstance(source, bytes):
        head, size = source[:16], len(source)
    else:
        with source.open("rb") as file:
            head = file.read(16)
        size = source.stat().st_size
    mime = sniff_mime(head)
    if mime is None:
        raise UnsupportedImage("not a JPEG, PNG or WebP image")
    try:
        img = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UnsupportedImage(f"cannot decode image: {_no_paths(exc)}") from exc
    if MIME_BY_FORMAT.get(img.format or "") != mime:
        img.close()
        raise UnsupportedImage("image content does not match its signature")
    pixels = img.width * img.height
    if pixels > max_pixels:
        img.close()
        raise UnsupportedImage(f"image has {img.width}x{img.height} pixels, over the {max_pixels} pixel limit")
    if mime == "image/jpeg" and size < MIN_BYTES_PER_MEGAPIXEL * pixels / 1e6:
        img.close()
        raise UnsupportedImage(f"{size} bytes cannot hold a {img.width}x{img.height} JPEG: truncated or forged")
    return img, mime


def _no_paths(exc: BaseException) -> str:
    """An exception's text without file system paths (error details reach clients)."""
    text = str(exc)
    return text.split(" '/")[0].split(' "/')[0] if "/" in text else text


def _decode(img: Image.Image) -> None:
    try:
        img.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UnsupportedImage(f"image data is truncated or corrupt: {_no_paths(exc)}") from exc


def _display_mode(img: Image.Image) -> Image.Image:
    """``img`` as RGB (or RGBA when it has transparency), every Pillow mode handled: 16-bit and
    32-bit greyscale are scaled into 8 bits (not clipped), CMYK/YCbCr/LAB/P/1/L converted."""
    if img.mode in SIXTEEN_BIT_MODES:
        wide = img.convert("I")
        high = cast(tuple[int, int], wide.getextrema())[1]  # one band: (low, high)
        top = 255 if high <= 255 else 65535  # 8-bit data stored wide, else 16 bit
        img = wide.point(lambda v: v * (255 / top)).convert("L")
    elif img.mode == "F":
        img = img.point(lambda v: v * 255).convert("L")
    if has_alpha(img):
        return img if img.mode == "RGBA" else img.convert("RGBA")
    return img if img.mode == "RGB" else img.convert("RGB")


def _scaled_decode(img: Image.Image, side: int | None, source: Path | bytes) -> Image.Image:
    """Decode ``img`` (JPEG: at the smallest DCT scale covering ``side``), apply its EXIF
    orientation and bring it to RGB/RGBA. A JPEG is decoded strictly (:func:`_strict_jpeg`)."""
    if img.format == "JPEG":
        strict = _strict_jpeg(img, side, source)
        if strict is not None:
            ImageOps.exif_transpose(strict, in_place=True)
            return _display_mode(strict)
    if side is not None and img.format == "JPEG" and max(img.size) > side:
        scale = max(img.size) / side
        mode = img.mode if img.mode in ("RGB", "L", "CMYK") else "RGB"
        img.draft(mode, (int(img.width / scale), int(img.height / scale)))
    _decode(img)
    ImageOps.exif_transpose(img, in_place=True)  # a copy of the whole decode only when it turns
    return _display_mode(img)


def _strict_jpeg(img: Image.Image, side: int | None, source: Path | bytes) -> Image.Image | None:
    """Decode the JPEG ``img`` was opened from with libjpeg-turbo (``simplejpeg``) in strict mode,
    which refuses data that ends before the frame is filled ("premature end of data segment"): a
    forged header claiming 4000 × 4000 over 512 × 512 of data is a 415, not a grey 16 MP photo.
    Pillow cannot tell (libjpeg only warns and fills the rest; it raises only when the file
    itself is cut). With ``side`` the decode is the image at the smallest DCT scale covering it
    (as Pillow's ``draft``, the same CPU: 28 ms for a 4500 × 3000 frame at 1125 × 750), returned
    with the EXIF of ``img``; without ``side`` (or for CMYK) the data is only checked at 1/8 scale
    (~1.3 ms CPU per megapixel) and None is returned: Pillow decodes it at full size, without a
    second full-size copy in memory. Raises :class:`UnsupportedImage`."""
    import simplejpeg

    data = source if isinstance(source, bytes) else source.read_bytes()
    decode_here = side is not None and img.mode in ("RGB", "L")
    if decode_here:
        assert side is not None
        scale = max(img.size) / side
        wanted = (int(img.width / scale), int(img.height / scale))
        # the power-of-two scale Pillow's draft picks (libjpeg-turbo also has 3/8, 5/8…: not wanted here)
        k = next((k for k in (8, 4, 2) if -(-img.width // k) >= wanted[0] and -(-img.height // k) >= wanted[1]), 1)
        width, height = -(-img.width // k), -(-img.height // k)
    else:
        width = height = 1  # the smallest scale: only the entropy data is checked
    colorspace = {"L": "gray", "CMYK": "cmyk"}.get(img.mode, "rgb")
    try:
        pixels = simplejpeg.decode_jpeg(data, colorspace, min_width=width, min_height=height, strict=True)
    except ValueError as exc:
        raise UnsupportedImage(f"image data is truncated or corrupt: {exc}") from exc
    if not decode_here:
        return None
    decoded = Image.fromarray(pixels[:, :, 0] if colorspace == "gray" else pixels)
    if "exif" in img.info:
        decoded.info["exif"] = img.info["exif"]
    return decoded


def _fit(img: Image.Image, side: int | None) -> Image.Image:
    """``img`` with its long side at most ``side`` pixels: unchanged when within
    :data:`SKIP_RESAMPLE_WITHIN` of it, else a bilinear resample (antialiased; after a box
    reduction for large factors, Pillow's ``reducing_gap``), cheap for the < 2× left after a
    DCT-scaled decode."""
    if side is None or max(img.size) <= side * SKIP_RESAMPLE_WITHIN:
        return img
    img.thumbnail((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return img


def prepare(
    source: Path | bytes,
    side: int | None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    inspect: Callable[[Image.Image], object] | None = None,
) -> PreparedPhoto:
    """Check the upload (a file or its bytes) by decoding it and make the provider copy: EXIF orientation
    applied, long side ``side`` pixels (None: the photo's own size; never enlarged), JPEG at
    quality 92, or PNG when the photo has transparency. ``inspect`` is called with the decoded
    photo (e.g. to count faces) so the photo is decoded once. Raises :class:`UnsupportedImage`."""
    img, mime = _open_checked(source, max_pixels)
    with img:
        width, height = img.size
        decoded = _scaled_decode(img, side, source)
        inspected = inspect(decoded) if inspect is not None else None
        fitted = _fit(decoded, side)
        copy = encode(fitted, _provider_mime(fitted), PROVIDER_JPEG_QUALITY)
        return PreparedPhoto(mime, width, height, copy, inspected)


def check_answer(
    data: bytes,
    mime: str,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    inspect: Callable[[Image.Image], object] | None = None,
) -> CheckedAnswer:
    """Decode a provider's answer once: verify it, let ``inspect`` see it, and return it as
    ``mime`` — the same bytes when it already is (no second lossy generation), else re-encoded
    (JPEG/WebP at quality 95). Raises :class:`UnsupportedImage`."""
    img, sniffed = _open_checked(data, max_pixels)
    with img:
        _decode(img)
        display = _display_mode(img) if inspect is not None or sniffed != mime else img
        inspected = inspect(display) if inspect is not None else None
        same = EncodedImage(data, sniffed, img.width, img.height) if sniffed == mime else None
        return CheckedAnswer(same or encode(display, mime), inspected)


def check_image_bytes(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> EncodedImage:
    """Verify ``data`` decodes completely; return it with its sniffed MIME type and size."""
    img, mime = _open_checked(data, max_pixels)
    with img:
        _decode(img)
        return EncodedImage(data, mime, img.width, img.height)


def convert(data: bytes, mime: str) -> EncodedImage:
    """``data`` verified and as ``mime`` (see :func:`check_answer`). Raises :class:`UnsupportedImage`."""
    return check_answer(data, mime).image


def encode(img: Image.Image, mime: str, quality: int = OUTPUT_QUALITY) -> EncodedImage:
    """Encode ``img`` as ``mime`` (``quality`` 1–100 for JPEG/WebP); transparency is flattened
    onto white for JPEG."""
    if mime == "image/jpeg":
        img = _flatten(img)
        options = {"format": "JPEG", "quality": quality}
    elif mime == "image/png":
        img = img if img.mode in ("RGB", "RGBA", "L", "LA") else img.convert("RGBA")
        options = {"format": "PNG", "compress_level": 4}
    elif mime == "image/webp":
        img = img if img.mode in ("RGB", "RGBA") else img.convert("RGBA")
        options = {"format": "WEBP", "quality": quality}
    else:
        raise UnsupportedImage(f"cannot encode {mime}")
    with _descriptor_file() as handle:
        img.save(handle, **options)
        handle.seek(0)
        return EncodedImage(handle.read(), mime, img.width, img.height)


def _descriptor_file() -> BinaryIO:
    """An unnamed in-memory file with a real descriptor (``memfd_create``; a temporary file where
    the system has none). Pillow encodes into a descriptor with the GIL released, but into a
    ``BytesIO`` with it held: measured with ``bench/encode_gil.py``, two threads encoding JPEGs
    into ``BytesIO`` take 2.1× the wall time of one (serialised, and the event loop waits too),
    into a descriptor 1.1–1.3×."""
    if hasattr(os, "memfd_create"):
        return open(os.memfd_create("photochanger-encode", os.MFD_CLOEXEC), "w+b")
    return tempfile.TemporaryFile()


def has_alpha(img: Image.Image) -> bool:
    """True if ``img`` has a transparency channel or palette transparency."""
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info


def _provider_mime(img: Image.Image) -> str:
    return "image/png" if has_alpha(img) else "image/jpeg"


def _flatten(img: Image.Image) -> Image.Image:
    if not has_alpha(img):
        return _display_mode(img) if img.mode != "RGB" else img
    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background
