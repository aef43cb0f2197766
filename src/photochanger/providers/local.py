"""The offline ``local`` provider: deterministic Pillow colour looks, frame overlays and, with the
``local-ai`` extra, person-preserving background replacement.

No key, no network: what a fresh install runs. With ``background`` on, the people found by the
selfie segmenter are kept and everything else is replaced by the slot's ``background`` template
(scaled to cover the photo, centred). Templates with role ``template`` are then composited over
the photo (their alpha channel decides what shows through), resized to the photo's size.
"""

import asyncio
import io
import threading
from typing import ClassVar, Literal

from PIL import Image, ImageEnhance, ImageOps
from pydantic import Field, model_validator

from photochanger.imaging import encode
from photochanger.providers import segmentation
from photochanger.providers.base import (
    FailureKind,
    InputImage,
    ProviderFailure,
    ProviderImage,
    ProviderRequest,
    ProviderSettings,
)
from photochanger.workers import HEAVY_BYTES, WorkerPool

Look = Literal["none", "bw", "sepia", "warm", "vivid"]
FrameFit = Literal["crop", "extend", "stretch"]


class LocalSettings(ProviderSettings):
    """``look``: colour treatment; ``overlay``: composite the slot's ``template`` images;
    ``background``: replace what is not a person with the slot's ``background`` image;
    ``frame_fit``: how a frame whose proportions differ from the photo's is fitted (never
    distorted unless ``stretch``). The result has the photo's own size (cropped or extended to the
    frame's proportions) unless ``input_max_side`` caps its long side (pixels)."""

    look: Look = "none"
    overlay: bool = True
    background: bool = False
    frame_fit: FrameFit = Field(
        default="crop",
        description="crop: the photo is cut (centred) to the frame's proportions; extend: white margins "
        "added instead; stretch: the frame is stretched to the photo (distorts it)",
    )

    @classmethod
    def unavailable_settings(cls) -> dict[str, str]:
        """``background`` without the ``local-ai`` extra (MediaPipe)."""
        return {} if segmentation.available() else {"background": segmentation.INSTALL_HINT}

    @model_validator(mode="after")
    def _segmenter_installed(self) -> "LocalSettings":
        if self.background and not segmentation.available():
            raise ValueError(segmentation.INSTALL_HINT)
        return self


def replace_background(img: Image.Image, background: InputImage) -> Image.Image:
    """``img`` with everything but the people replaced by ``background`` (cover-fitted)."""
    with Image.open(io.BytesIO(background.data)) as scene:
        fitted = ImageOps.fit(scene.convert("RGB"), img.size, Image.Resampling.LANCZOS)
    return Image.composite(img, fitted, segmentation.person_mask(img))


def apply_look(img: Image.Image, look: Look) -> Image.Image:
    """Return ``img`` (RGB) with the colour ``look`` applied."""
    if look == "bw":
        return ImageOps.grayscale(img).convert("RGB")
    if look == "sepia":
        return ImageOps.colorize(ImageOps.grayscale(img), black="#2b1d0e", white="#fff4e0", mid="#a8845a")
    if look == "warm":
        red, green, blue = img.split()
        red = red.point([min(255, int(v * 1.08 + 6)) for v in range(256)])  # lookup tables of 8-bit bands
        blue = blue.point([int(v * 0.88) for v in range(256)])
        return ImageEnhance.Color(Image.merge("RGB", (red, green, blue))).enhance(1.1)
    if look == "vivid":
        return ImageEnhance.Contrast(ImageEnhance.Color(img).enhance(1.4)).enhance(1.12)
    return img


def overlay(img: Image.Image, template: InputImage, fit: FrameFit = "crop") -> Image.Image:
    """Composite ``template`` (alpha respected) over ``img``. ``crop``: ``img`` is cut, centred,
    to the frame's aspect ratio (keeping as many pixels as that allows) and the frame scaled
    uniformly onto it; ``extend``: ``img`` is padded with white to the frame's aspect ratio;
    ``stretch``: the frame is resized to ``img``'s size whatever its proportions."""
    with Image.open(io.BytesIO(template.data)) as frame:
        layer = frame.convert("RGBA")
    if fit != "stretch":
        ratio = layer.width / layer.height
        if fit == "crop":
            width = min(img.width, round(img.height * ratio))
            size = (width, min(img.height, round(width / ratio)))
            img = ImageOps.fit(img, size, Image.Resampling.LANCZOS)
        else:
            width = max(img.width, round(img.height * ratio))
            size = (width, max(img.height, round(width / ratio)))
            img = ImageOps.pad(img, size, Image.Resampling.LANCZOS, color="white")
    layer = layer.resize(img.size, Image.Resampling.LANCZOS)
    base = img.convert("RGBA")
    base.alpha_composite(layer)
    return base.convert("RGB")


class Abandoned(Exception):
    """The render was stopped at a step boundary: nobody waits for its photo any more."""


def render(request: ProviderRequest[LocalSettings], stop: threading.Event | None = None) -> bytes:
    """The edited photo as JPEG bytes (CPU-bound). ``stop`` is checked between the steps (decode,
    background, look, each overlay, encode): once it is set the render ends with
    :class:`Abandoned` instead of finishing a photo nobody waits for."""

    def step() -> None:
        if stop is not None and stop.is_set():
            raise Abandoned("the attempt was abandoned")

    settings = request.settings
    with Image.open(io.BytesIO(request.photo.data)) as photo:
        img = photo.convert("RGB")
    if settings.background:
        scene = next((t for t in request.templates if t.role == "background"), None)
        if scene is None:
            raise ProviderFailure(FailureKind.CONFIG, "missing_template", "needs a template with role background")
        step()
        img = replace_background(img, scene)
    step()
    img = apply_look(img, settings.look)
    if settings.overlay:
        for template in request.templates:
            if template.role == "template":
                step()
                img = overlay(img, template, settings.frame_fit)
    step()
    return encode(img, "image/jpeg").data


class LocalProvider:
    """See module docstring."""

    name: ClassVar[str] = "local"
    settings_model: ClassVar[type[ProviderSettings]] = LocalSettings
    requires_prompt: ClassVar[bool] = False
    requires_public_url: ClassVar[bool] = False
    circuit_breaker: ClassVar[bool] = False  # our own CPU: the image pool bounds it, no circuit

    def model_name(self, settings: LocalSettings) -> str | None:
        return None

    def typical_latency(self, settings: LocalSettings) -> float:
        return 1.5 if settings.background else 0.5

    def input_side(self, settings: LocalSettings) -> int | None:
        return None  # the photo's own size: prints stay sharp

    def __init__(self, images: WorkerPool | None = None) -> None:
        self.images = images  # the bounded image pool (None: a thread of asyncio's default pool)

    async def generate(self, request: ProviderRequest[LocalSettings]) -> ProviderImage:
        """Render in the image pool (a heavy turn for a photo of tens of megapixels); when the
        attempt is cancelled (its timeout, the guest's deadline) the render stops at its next step."""
        stop = threading.Event()
        try:
            if self.images is None:
                data = await asyncio.to_thread(render, request, stop)
            else:
                heavy = len(request.photo.data) >= HEAVY_BYTES
                data = await self.images.run(render, request, stop, heavy=heavy)
        except BaseException:
            stop.set()
            raise
        return ProviderImage(data, model=None)
