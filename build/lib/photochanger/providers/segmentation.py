"""Person masks from MediaPipe's selfie segmenter, whose model ships inside the ``mediapipe``
wheel (``mediapipe/modules/selfie_segmentation``): nothing is downloaded at run time.
Optional: ``pip install 'photochanger[local-ai]'``."""

import importlib.util

from PIL import Image, ImageFilter

INSTALL_HINT = "background replacement needs the local-ai extra: pip install 'photochanger[local-ai]'"
FEATHER_PX = 2


def available() -> bool:
    """True when ``mediapipe`` is installed."""
    return importlib.util.find_spec("mediapipe") is not None


def person_mask(img: Image.Image) -> Image.Image:
    """An ``L`` mask of ``img``'s size: 255 where a person is, 0 elsewhere, softly edged.
    CPU-bound; raises ``RuntimeError`` with the install hint when mediapipe is missing."""
    if not available():
        raise RuntimeError(INSTALL_HINT)
    import mediapipe as mp
    import numpy as np

    segmentation = mp.solutions.selfie_segmentation  # pyright: ignore[reportAttributeAccessIssue]
    with segmentation.SelfieSegmentation(model_selection=0) as segmenter:
        result = segmenter.process(np.asarray(img.convert("RGB")))
    mask = Image.fromarray((np.clip(result.segmentation_mask, 0, 1) * 255).astype("uint8"), "L")
    return mask.resize(img.size).filter(ImageFilter.GaussianBlur(FEATHER_PX))
