"""Counting the people in a photo by their faces, with MediaPipe's face detector, whose model
ships inside the ``mediapipe`` wheel (``mediapipe/modules/face_detection``): nothing is
downloaded at run time. Optional: ``pip install 'photochanger[local-ai]'``.

What it can tell: how many faces a photo shows (people facing the camera, about 2 m or nearer in
a booth frame). What it cannot: whether the faces are the *same* people (no identity check), people
seen from behind or fully covered, or faces smaller than about 2 % of the frame. CPU-bound: call
from a worker thread.
"""

import importlib.util
import threading
from dataclasses import dataclass

from PIL import Image

INSTALL_HINT = "the people check needs the local-ai extra: pip install 'photochanger[local-ai]'"
DETECT_SIDE = 768  # pixels: larger photos are box-reduced towards this long side (the detector works at 192 px)
MIN_CONFIDENCE = 0.5
_local = threading.local()


@dataclass(frozen=True)
class Face:
    """A detected face: box in fractions of the width/height (0–1) and the detector's score."""

    x: float
    y: float
    width: float
    height: float
    score: float


def available() -> bool:
    """True when ``mediapipe`` is installed."""
    return importlib.util.find_spec("mediapipe") is not None


def _detector():
    """One detector per worker thread (MediaPipe graphs are not thread-safe)."""
    if getattr(_local, "detector", None) is None:
        import mediapipe as mp

        # model 1: the full-range model (people up to about 5 m), right for group photos
        _local.detector = mp.solutions.face_detection.FaceDetection(  # pyright: ignore[reportAttributeAccessIssue]
            model_selection=1, min_detection_confidence=MIN_CONFIDENCE
        )
    return _local.detector


def detect_image(img: Image.Image) -> list[Face]:
    """The faces in a decoded image (any mode; scaled to :data:`DETECT_SIDE` here, never
    modified). Raises ``RuntimeError`` with the install hint when mediapipe is missing."""
    if not available():
        raise RuntimeError(INSTALL_HINT)
    import numpy as np

    small = img.convert("RGB") if img.mode != "RGB" else img
    factor = max(small.size) // DETECT_SIDE
    if factor >= 2:  # an integer box reduction costs ~1 ms; MediaPipe's own resize does the rest
        small = small.reduce(factor)
    result = _detector().process(np.asarray(small))
    faces = []
    for detection in result.detections or []:
        box = detection.location_data.relative_bounding_box
        faces.append(Face(box.xmin, box.ymin, box.width, box.height, float(detection.score[0])))
    return faces


def count_image(img: Image.Image) -> int:
    """How many faces the decoded image shows."""
    return len(detect_image(img))
