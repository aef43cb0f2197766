"""Turbotext end to end: queue, polling, result placements, public input links, failure rules."""

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import update

from photochanger.db import utcnow
from photochanger.media.models import ProviderMedia
from photochanger.providers.registry import InvalidSettings, validate_settings
from photochanger.slots import service as slots
from photochanger.storage import FolderStore
from tests.conftest import PHOTOS
from tests.tools.processes import allowed

pytestmark = [
    pytest.mark.database_independent,
    pytest.mark.served,
]  # served: Turbotext fetches the photo from the server's public URL


def test_turbotext_needs_a_public_base_url_at_save_time():
    with pytest.raises(InvalidSettings, match="PHOTOCHANGER_PUBLIC_BASE_URL"):
        validate_settings("turbotext", {}, "", None)
    assert validate_settings("turbotext", {"strength": 40}, "", "https://booth.example").strength == 40
    with pytest.raises(InvalidSettings, match="strength"):
        validate_settings("turbotext", {"strength": 99}, "", "https://booth.example")


@pytest.mark.parametrize("placement", ["top", "data", "relative"])
async def test_image2image_polls_through_reconnects_to_the_result(svc, fake_turbotext, placement):
    await svc.slot("slot-006", "turbotext", prompt="oil painting", settings={"strength": 30})
    fake_turbotext.reset(reconnects=3, placement=placement)
    r = svc.post("slot-006", PHOTOS / "astronaut.jpg")
    assert r.status == 200 and r.headers["content-type"] == "image/jpeg"
    red, green, blue = Image.open(io.BytesIO(r.body)).convert("RGB").getpixel((256, 256))
    assert abs(red - green) <= 3 and abs(green - blue) <= 3  # the fake's greyscale result
    [queue] = fake_turbotext.queues.values()
    assert queue.fields["content"] == "oil painting" and queue.fields["strength"] == "30"
    assert queue.fetched["url"][0] == 200 and queue.polls == 4
    assert queue.fields["url"].startswith(f"{svc.base_url}/public/provider-media/")
    attempts = await svc.attempts(r.headers["x-job-id"])
    assert attempts[-1].request_id == str(next(iter(fake_turbotext.queues)))


async def test_public_input_link_is_gone_after_the_deadline(svc, fake_turbotext):
    await svc.slot("slot-006", "turbotext", prompt="comic")
    fake_turbotext.reset(reconnects=0)
    assert svc.post("slot-006").status == 200
    link = next(iter(fake_turbotext.queues.values())).fields["url"]
    token = link.rsplit("/", 1)[1]
    assert svc.http.get(link).status_code == 200
    async with svc.db.transaction() as session:
        await session.execute(
            update(ProviderMedia).where(ProviderMedia.token == token).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    gone = svc.http.get(link)
    assert gone.status_code == 410 and gone.json()["failure_reason"] == "media_expired"
    assert svc.http.get(f"/public/provider-media/{'x' * 43}").status_code == 404


async def test_mix_images_sends_the_style_template_too(svc, fake_turbotext):
    await svc.slot("slot-007", "turbotext", settings={"method": "mix_images"})
    store = FolderStore(svc.media)
    template = await slots.add_template(svc.db, store, "slot-007", (PHOTOS / "camera.png").read_bytes(), "style")
    try:
        fake_turbotext.reset(reconnects=1, placement="data")
        r = svc.post("slot-007")
        assert r.status == 200
        [queue] = fake_turbotext.queues.values()
        assert queue.fetched["url"][1] == (PHOTOS / "camera.png").read_bytes()
        assert queue.fetched["url_image_target"][0] == 200
    finally:
        await slots.remove_template(svc.db, store, "slot-007", template.id)
    fake_turbotext.reset()
    missing = svc.post("slot-007")  # no style template any more: a configuration error, not retried
    assert missing.status == 502 and "missing_template" in missing.json()["detail"]


async def test_failed_create_is_recreated_once_but_an_ambiguous_one_never(svc, fake_turbotext):
    await svc.slot("slot-006", "turbotext", prompt="comic")
    fake_turbotext.reset("create_500")
    refused = svc.post("slot-006")
    assert refused.status == 503 and fake_turbotext.creates == 2  # 5xx without a queue: re-created once
    await svc.setting("sync_response_seconds", 12)
    fake_turbotext.reset("create_hang")
    hung = svc.post("slot-006")
    assert hung.status == 504 and hung.elapsed < allowed(12.5) and fake_turbotext.creates == 1


async def test_quota_and_flaky_polls(svc, fake_turbotext):
    await svc.slot("slot-006", "turbotext", prompt="comic")
    fake_turbotext.reset("limit")
    limited = svc.post("slot-006")
    assert limited.status == 503 and limited.json()["failure_reason"] == "provider_unavailable"
    fake_turbotext.reset("poll_500_once", reconnects=1)
    assert svc.post("slot-006").status == 200
