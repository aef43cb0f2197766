"""The offline local provider: deterministic looks and frame overlays."""

import io

import pytest
from PIL import Image, ImageDraw

from photochanger.providers.base import InputImage, ProviderRequest
from photochanger.providers.local import LocalProvider, LocalSettings
from tests.conftest import PHOTOS

PHOTO = InputImage((PHOTOS / "astronaut.jpg").read_bytes(), "image/jpeg")


def _frame(size=(300, 200)) -> InputImage:
    frame = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(frame).rectangle([0, 0, size[0] - 1, size[1] - 1], outline=(255, 0, 0, 255), width=20)
    buffer = io.BytesIO()
    frame.save(buffer, "PNG")
    return InputImage(buffer.getvalue(), "image/png", "template")


async def _run(templates=(), **settings) -> Image.Image:
    request = ProviderRequest(PHOTO, list(templates), "", LocalSettings(**settings), 10)
    return Image.open(io.BytesIO((await LocalProvider().generate(request)).data)).convert("RGB")


@pytest.mark.parametrize("look", ["bw", "sepia", "warm", "vivid"])
async def test_looks_are_deterministic_and_change_the_photo(look):
    first, second, plain = await _run(look=look), await _run(look=look), await _run()
    assert first.tobytes() == second.tobytes()
    assert first.tobytes() != plain.tobytes()


async def test_bw_is_grey():
    red, green, blue = (await _run(look="bw")).getpixel((256, 300))
    assert red == green == blue


def _border_widths(img: Image.Image) -> tuple[int, int, int, int]:
    """Red border thickness (left, top, right, bottom) along the middle row and column."""

    def red(xy) -> bool:
        r, g, b = img.getpixel(xy)
        return r > 180 and g < 90 and b < 90

    mid_x, mid_y = img.width // 2, img.height // 2
    left = next(x for x in range(img.width) if not red((x, mid_y)))
    right = next(x for x in range(img.width) if not red((img.width - 1 - x, mid_y)))
    top = next(y for y in range(img.height) if not red((mid_x, y)))
    bottom = next(y for y in range(img.height) if not red((mid_x, img.height - 1 - y)))
    return left, top, right, bottom


async def test_a_frame_keeps_its_proportions_on_a_photo_of_another_shape():
    framed = await _run([_frame((300, 200))])  # a 3:2 frame, 20 px border, on a square photo
    assert framed.size == (512, 341)  # the photo is cut (centred) to 3:2, not the frame stretched
    widths = _border_widths(framed)
    assert max(widths) - min(widths) <= 2 and 30 <= widths[0] <= 38  # 20 px × 512/300, equal all round
    extended = await _run([_frame((300, 200))], frame_fit="extend")
    assert extended.size == (768, 512) and extended.getpixel((60, 256))[1] > 240  # white margin, no crop
    stretched = await _run([_frame((300, 200))], frame_fit="stretch")
    left, top, _, _ = _border_widths(stretched)
    assert stretched.size == (512, 512) and top > left + 10  # the old distortion, on request only


async def test_frame_overlay_keeps_the_centre():
    plain, framed = await _run(), await _run([_frame((400, 400))])
    assert framed.size == plain.size == (512, 512)
    red, green, blue = framed.getpixel((3, 256))
    assert red > 200 and green < 60 and blue < 60
    assert framed.getpixel((256, 256)) == plain.getpixel((256, 256))


async def test_overlay_can_be_switched_off_and_other_roles_are_ignored():
    background = InputImage(_frame().data, "image/png", "background")
    plain = await _run()
    assert (await _run([_frame()], overlay=False)).tobytes() == plain.tobytes()
    assert (await _run([background])).tobytes() == plain.tobytes()


def _solid_png(color: tuple[int, int, int], size=(640, 480)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("photo", ["astronaut.jpg", "camera.png"])
async def test_background_replacement_keeps_the_person(photo):
    pytest.importorskip("mediapipe", reason="the local-ai extra is not installed")
    source = InputImage((PHOTOS / photo).read_bytes(), "image/png" if photo.endswith("png") else "image/jpeg")
    scene = InputImage(_solid_png((0, 200, 0)), "image/png", "background")
    request = ProviderRequest(source, [scene], "", LocalSettings(background=True), 10)
    result = Image.open(io.BytesIO((await LocalProvider().generate(request)).data)).convert("RGB")
    original = Image.open(PHOTOS / photo).convert("RGB")
    face = (256, 150) if photo == "astronaut.jpg" else (250, 120)
    assert sum(abs(a - b) for a, b in zip(result.getpixel(face), original.getpixel(face), strict=True)) < 60
    red, green, blue = result.getpixel((20, 20))  # sky/wall behind the person: now the green scene
    assert green > 150 and red < 80 and blue < 80


async def test_background_replacement_without_a_background_template_is_a_config_error():
    pytest.importorskip("mediapipe", reason="the local-ai extra is not installed")
    from photochanger.providers.base import FailureKind, ProviderFailure

    with pytest.raises(ProviderFailure) as caught:
        await LocalProvider().generate(ProviderRequest(PHOTO, [], "", LocalSettings(background=True), 10))
    assert caught.value.kind is FailureKind.CONFIG and caught.value.code == "missing_template"


def test_background_setting_is_refused_at_save_time_without_the_extra(monkeypatch):
    from photochanger.providers import segmentation
    from photochanger.providers.registry import InvalidSettings, validate_settings

    monkeypatch.setattr(segmentation, "available", lambda: False)
    with pytest.raises(InvalidSettings, match=r"pip install 'photochanger\[local-ai\]'"):
        validate_settings("local", {"background": True}, "")


def test_a_render_nobody_waits_for_stops_at_its_next_step():
    import threading

    from photochanger.providers.local import Abandoned, render

    stop = threading.Event()
    stop.set()  # the attempt was cancelled before the look was applied
    with pytest.raises(Abandoned):
        render(ProviderRequest(PHOTO, [_frame()], "", LocalSettings(look="vivid"), 10), stop)


async def test_a_cancelled_local_attempt_stops_its_render_in_the_image_pool():
    import asyncio
    import threading

    from photochanger.providers import local
    from photochanger.workers import WorkerPool

    pool = WorkerPool("images", workers=1, max_waiting=4)
    entered, carry_on, steps = threading.Event(), threading.Event(), []
    original_look = local.apply_look

    def slow_look(img, look):  # the first step takes long: the attempt is cancelled meanwhile
        entered.set()
        carry_on.wait(10)
        steps.append("look")
        return original_look(img, look)

    original_overlay = local.overlay
    local.apply_look = slow_look
    local.overlay = lambda *args: steps.append("overlay") or original_overlay(*args)
    try:
        request = ProviderRequest(PHOTO, [_frame()], "", LocalSettings(look="vivid"), 10)
        attempt = asyncio.create_task(LocalProvider(pool).generate(request))
        await asyncio.to_thread(entered.wait, 10)
        attempt.cancel()
        with pytest.raises(asyncio.CancelledError):
            await attempt
        carry_on.set()
        assert await pool.run(lambda: "next") == "next"  # the turn comes back once the render has stopped
        assert steps == ["look"]  # the overlay and the encode after it never ran
    finally:
        local.apply_look, local.overlay = original_look, original_overlay


def test_background_replacement_is_reported_unavailable_without_the_local_ai_extra(monkeypatch):
    from photochanger.providers import segmentation
    from photochanger.providers.registry import CATALOGUE

    monkeypatch.setattr(segmentation, "available", lambda: False)
    assert CATALOGUE["local"].describe()["unavailable_settings"] == {"background": segmentation.INSTALL_HINT}
    assert CATALOGUE["gemini"].describe()["unavailable_settings"] == {}
    monkeypatch.setattr(segmentation, "available", lambda: True)
    assert CATALOGUE["local"].describe()["unavailable_settings"] == {}
