"""The offline ``local`` provider: deterministic Pillow colour looks and frame overlays.

No key, no network: what a fresh install runs. Templates with role ``template`` are composited
over the photo (their alpha channel decides what shows through), resized to the photo's size.
"""

import asyncio
import io
from typing import ClassVar, Literal

from PIL import Image, ImageEnhance, ImageOps
from pydantic import BaseModel, ConfigDict

from photochanger.media.images import encode
from photochanger.providers.base import InputImage, ProviderImage, ProviderRequest

Look = Literal["none", "bw", "sepia", "warm", "vivid"]


class LocalSettings(BaseModel):
    """``look``: colour treatment; ``overlay``: composite the slot's ``template`` images."""

    model_config = ConfigDict(extra="forbid")

    look: Look = "none"
    overlay: bool = True


def apply_look(img: Image.Image, look: Look) -> Image.Image:
    """Return ``img`` (RGB) with the colour ``look`` applied."""
    if look == "bw":
        return ImageOps.grayscale(img).convert("RGB")
    if look == "sepia":
        return ImageOps.colorize(ImageOps.grayscale(img), black="#2b1d0e", white="#fff4e0", mid="#a8845a")
    if look == "warm":
        red, green, blue = img.split()
        red = red.point(lambda v: min(255, int(v * 1.08 + 6)))
        blue = blue.point(lambda v: int(v * 0.88))
        return ImageEnhance.Color(Image.merge("RGB", (red, green, blue))).enhance(1.1)
    if look == "vivid":
        return ImageEnhance.Contrast(ImageEnhance.Color(img).enhance(1.4)).enhance(1.12)
    return img


def overlay(img: Image.Image, template: InputImage) -> Image.Image:
    """Composite ``template`` (alpha respected) over ``img``, stretched to ``img``'s size."""
    with Image.open(io.BytesIO(template.data)) as frame:
        layer = frame.convert("RGBA").resize(img.size, Image.Resampling.LANCZOS)
    base = img.convert("RGBA")
    base.alpha_composite(layer)
    return base.convert("RGB")


def render(request: ProviderRequest) -> bytes:
    """The edited photo as JPEG bytes (CPU-bound)."""
    settings: LocalSettings = request.settings  # type: ignore[assignment]
    with Image.open(io.BytesIO(request.photo.data)) as photo:
        img = apply_look(photo.convert("RGB"), settings.look)
    if settings.overlay:
        for template in request.templates:
            if template.role == "template":
                img = overlay(img, template)
    return encode(img, "image/jpeg").data


class LocalProvider:
    """See module docstring."""

    name: ClassVar[str] = "local"
    settings_model: ClassVar[type[BaseModel]] = LocalSettings
    requires_prompt: ClassVar[bool] = False

    def model_name(self, settings: BaseModel) -> str | None:
        return None

    def typical_latency(self, settings: BaseModel) -> float:
        return 0.5

    async def generate(self, request: ProviderRequest) -> ProviderImage:
        return ProviderImage(await asyncio.to_thread(render, request), model=None)
