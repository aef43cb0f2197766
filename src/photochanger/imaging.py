"""Image checks and conversions with Pillow. CPU-bound: call from a worker thread.

Accepted formats: JPEG, PNG, WebP, identified by magic bytes (JPEG ``FF D8 FF``, PNG
``89 50 4E 47 0D 0A 1A 0A``, WebP ``RIFF....WEBP``) and confirmed by a real decode.
"""

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

MIME_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSION_BY_MIME = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
OUTPUT_QUALITY = 95  # JPEG/WebP quality of results returned to the booth
PROVIDER_JPEG_QUALITY = 92  # quality of the normalised photo sent to providers
DEFAULT_MAX_PIXELS = 100_000_000  # larger images are refused as decompression bombs


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
class CheckedUpload:
    """An upload that passed the checks: its own MIME/size, and the normalised provider copy."""

    mime: str
    width: int
    height: int
    normalised: EncodedImage


def _open_checked(source: Path | bytes, max_pixels: int) -> tuple[Image.Image, str]:
    head = source[:16] if isinstance(source, bytes) else source.open("rb").read(16)
    mime = sniff_mime(head)
    if mime is None:
        raise UnsupportedImage("not a JPEG, PNG or WebP image")
    try:
        img = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (OSError, Image.DecompressionBombError) as exc:
        raise UnsupportedImage(f"cannot decode image: {exc}") from exc
    if MIME_BY_FORMAT.get(img.format or "") != mime:
        raise UnsupportedImage("image content does not match its signature")
    if img.width * img.height > max_pixels:
        raise UnsupportedImage(f"image has {img.width}x{img.height} pixels, over the {max_pixels} limit")
    return img, mime


def _decode(img: Image.Image) -> None:
    try:
        img.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedImage(f"image data is truncated or corrupt: {exc}") from exc


def check_and_normalise(path: Path, max_side: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> CheckedUpload:
    """Verify the upload at ``path`` by decoding it, and produce the provider copy.

    The copy has EXIF orientation applied and its long side at most ``max_side`` pixels; JPEG
    uploads are decoded at a reduced DCT scale (draft mode) when that still covers ``max_side``.
    Images with transparency are sent as PNG, others as JPEG. Raises :class:`UnsupportedImage`.
    """
    img, mime = _open_checked(path, max_pixels)
    with img:
        width, height = img.size
        if img.format == "JPEG":
            scale = max(width, height) / max_side
            if scale > 1:
                img.draft("RGB", (int(width / scale), int(height / scale)))
        _decode(img)
        normalised = ImageOps.exif_transpose(img)
        normalised.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        provider_copy = encode(normalised, _provider_mime(normalised), PROVIDER_JPEG_QUALITY)
        return CheckedUpload(mime, width, height, provider_copy)


def check_image_bytes(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> EncodedImage:
    """Verify ``data`` decodes completely; return it with its sniffed MIME type and size."""
    img, mime = _open_checked(data, max_pixels)
    with img:
        _decode(img)
        return EncodedImage(data, mime, img.width, img.height)


def convert(data: bytes, mime: str) -> EncodedImage:
    """Return ``data`` as ``mime``: unchanged if it already is (no second lossy generation),
    else decoded and re-encoded (JPEG/WebP at quality 95). Raises :class:`UnsupportedImage`."""
    checked = check_image_bytes(data)
    if checked.mime == mime:
        return checked
    with Image.open(io.BytesIO(data)) as img:
        return encode(img, mime)


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
    buffer = io.BytesIO()
    img.save(buffer, **options)
    return EncodedImage(buffer.getvalue(), mime, img.width, img.height)


def has_alpha(img: Image.Image) -> bool:
    """True if ``img`` has a transparency channel or palette transparency."""
    return img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info


def _provider_mime(img: Image.Image) -> str:
    return "image/png" if has_alpha(img) else "image/jpeg"


def _flatten(img: Image.Image) -> Image.Image:
    if not has_alpha(img):
        return img.convert("RGB") if img.mode != "RGB" else img
    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background
