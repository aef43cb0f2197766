"""End to end over HTTP: booth uploads against a running server, on SQLite and PostgreSQL."""

import hashlib
import io
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from tests.conftest import INGEST_PASSWORD, PHOTOS, overlapping
from tests.tools.processes import allowed

DSLR = PHOTOS / "astronaut_dslr_4500x3000.jpg"


def _image(body: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(body))
    img.load()
    return img


async def test_booth_photo_comes_back_edited_as_jpeg(svc):
    await svc.slot("slot-001", "local", settings={"look": "sepia"})
    r = svc.post("slot-001", DSLR, query="event=wedding")
    assert r.status == 200, r.body[:300]
    assert r.headers["content-type"] == "image/jpeg"
    assert int(r.headers["content-length"]) == len(r.body)
    assert r.headers["cache-control"] == "no-store"
    img = _image(r.body)
    assert img.format == "JPEG" and img.size == (4500, 3000)  # local works at the photo's own size
    red, green, blue = img.convert("RGB").getpixel((2250, 900))
    assert red >= green >= blue  # sepia toned
    job = await svc.job(r.headers["x-job-id"])
    assert job.status == "done" and job.source == "ingest" and job.provider == "local"
    assert job.attempts == 1 and job.http_status == 200
    assert (job.input_width, job.input_height, job.input_mime) == (4500, 3000, "image/jpeg")
    assert job.input_sha256 == hashlib.sha256(DSLR.read_bytes()).hexdigest()
    assert job.client_fields["version"] == "3.30.2" and len(job.client_fields["hash"]) == 40
    assert "password" not in job.client_fields and INGEST_PASSWORD not in str(job.client_fields)
    assert job.query_string == "event=wedding"
    assert job.result_bytes == len(r.body) and job.total_ms >= job.provider_ms >= 0
    assert abs(job.result_expires_at - (job.received_at + timedelta(hours=168))) < timedelta(seconds=1)
    assert (svc.media / job.input_path).read_bytes() == DSLR.read_bytes()
    assert r.headers["x-result-url"] == f"{svc.base_url}/r/{job.id}"  # the take-home page, not the raw file
    assert svc.http.get(r.headers["x-result-url"].replace("/r/", "/public/results/")).content == r.body


async def test_alias_route_and_file_field_name(svc):
    await svc.slot("slot-001", "local", settings={"look": "bw"})
    photo = (PHOTOS / "astronaut.jpg").read_bytes()
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="password"\r\n\r\n'
        + INGEST_PASSWORD.encode()
        + b'\r\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        + b"Content-Type: image/jpeg\r\n\r\n"
        + photo
        + b"\r\n--XyZ--\r\n"
    )
    r = svc.http.post(
        f"{svc.base_url}/ingest/slot-001", content=body, headers={"Content-Type": "multipart/form-data; boundary=XyZ"}
    )
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert (
        _image(r.content).convert("RGB").getpixel((256, 256))[0]
        == _image(r.content).convert("RGB").getpixel((256, 256))[2]
    )


async def test_png_in_png_out_and_webp_in_webp_out(svc):
    await svc.slot("slot-001", "local", settings={"look": "vivid"})
    png = svc.post("slot-001", PHOTOS / "camera.png", mime="image/png", filename="IMG.PNG")
    assert png.status == 200 and png.headers["content-type"] == "image/png" and _image(png.body).format == "PNG"
    buffer = io.BytesIO()
    Image.open(PHOTOS / "astronaut.png").save(buffer, "WEBP")
    webp = svc.post("slot-001", buffer.getvalue(), mime="image/webp", filename="IMG.WEBP")
    assert webp.status == 200 and webp.headers["content-type"] == "image/webp" and _image(webp.body).format == "WEBP"


async def test_unknown_slot_is_404_without_a_job(svc):
    r = svc.post("slot-016")
    assert r.status == 404
    assert r.json() == {
        "status": "error",
        "failure_reason": "slot_not_found",
        "detail": r.json()["detail"],
        "job_id": None,
    }


def _refused(svc, reason: str) -> int:
    """How many booth requests of 127.0.0.1 were refused for ``reason`` before their password."""
    rows = svc.api.get("/api/ingest/refused", params={"limit": 200}).json()
    return sum(r["count"] for r in rows if r["failure_reason"] == reason and r["client_ip"] == "127.0.0.1")


async def test_inactive_slot_is_403_and_counted_without_a_job_row(svc):
    await svc.slot("slot-003", "local", is_active=False)
    before = _refused(svc, "slot_disabled")
    r = svc.post("slot-003")
    assert r.status == 403 and r.json()["failure_reason"] == "slot_disabled"
    assert r.json()["job_id"] is None  # answered before the password: a stranger's request writes nothing
    assert _refused(svc, "slot_disabled") == before + 1


async def test_wrong_or_missing_password_is_401_and_nothing_kept(svc):
    await svc.slot("slot-001", "local")
    before = _refused(svc, "invalid_password")
    wrong = svc.post("slot-001", DSLR, password="guess")
    assert wrong.status == 401 and wrong.json()["failure_reason"] == "invalid_password"
    assert wrong.json()["job_id"] is None and _refused(svc, "invalid_password") == before + 1  # no row, counted
    assert "guess" not in svc.api.get("/api/ingest/refused").text
    missing = svc.post("slot-001", password=None)
    assert missing.status == 401 and missing.json()["failure_reason"] == "invalid_password"
    assert list((svc.media / "tmp").iterdir()) == []


async def test_missing_or_empty_photo_and_non_multipart_are_400(svc):
    await svc.slot("slot-001", "local")
    form = {"password": INGEST_PASSWORD, "time": "1"}
    no_file = svc.http.post("/api/ingest/slot-001", data=form, files={"other": ("x.txt", b"x")})
    assert no_file.status_code == 400 and no_file.json()["failure_reason"] == "invalid_request"
    empty = svc.post("slot-001", b"")
    assert empty.status == 400 and "empty" in empty.json()["detail"]
    raw = svc.http.post("/api/ingest/slot-001", json={"password": INGEST_PASSWORD})
    assert raw.status_code == 400 and raw.json()["failure_reason"] == "invalid_request"
    cut = svc.http.post(
        f"{svc.base_url}/api/ingest/slot-001",
        content=b'--b\r\nContent-Disposition: form-data; name="x"\r\n\r\nv',
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert cut.status_code == 400


@pytest.mark.served  # Expect: 100-continue on a socket
async def test_declared_oversize_body_is_refused_before_it_is_sent(svc):
    await svc.slot("slot-001", "local")
    with socket.create_connection(("127.0.0.1", svc.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/ingest/slot-001 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Type: multipart/form-data; boundary=------------1\r\n"
            b"Content-Length: 524288000\r\n\r\n"
        )
        answer = b""
        while b"payload_too_large" not in answer and (chunk := sock.recv(4096)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413") and b"payload_too_large" in answer
    assert list((svc.media / "tmp").iterdir()) == []


async def test_per_slot_limit_applies_while_streaming_without_content_length(svc):
    await svc.slot("slot-001", "local", upload_limit_bytes=200 * 1024)

    def chunks():
        yield (
            b'--B\r\nContent-Disposition: form-data; name="password"\r\n\r\n'
            + INGEST_PASSWORD.encode()
            + b'\r\n--B\r\nContent-Disposition: form-data; name="fileToUpload"; filename="a.jpg"\r\n\r\n'
        )
        for _ in range(100):
            yield b"\xff" * 65536

    r = svc.http.post(
        f"{svc.base_url}/api/ingest/slot-001",
        content=chunks(),
        headers={"Content-Type": "multipart/form-data; boundary=B"},
    )
    assert r.status_code == 413 and r.json()["failure_reason"] == "payload_too_large"
    job = await svc.job(r.json()["job_id"])
    assert job.input_path is None
    assert list((svc.media / "tmp").iterdir()) == []
    small = svc.post("slot-001", DSLR)  # 1.3 MB over a 200 KB slot limit, refused from Content-Length
    assert small.status == 413 and small.elapsed < allowed(2)


async def test_not_an_image_truncated_and_bomb_are_415_with_original_kept(svc):
    await svc.slot("slot-001", "local")
    text = svc.post("slot-001", b"this is not a photo at all", mime="image/jpeg")
    assert text.status == 415 and text.json()["failure_reason"] == "unsupported_media_type"
    job = await svc.job(text.json()["job_id"])
    assert (svc.media / job.input_path).read_bytes() == b"this is not a photo at all"
    truncated = svc.post("slot-001", DSLR.read_bytes()[:200_000])
    assert truncated.status == 415 and "truncated" in truncated.json()["detail"]
    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, "PNG")  # 144 MP in a few kB
    bomb = svc.post("slot-001", buffer.getvalue(), mime="image/png")
    assert bomb.status == 415 and "pixels" in bomb.json()["detail"]
    gif = svc.post("slot-001", b"GIF89a" + b"\x00" * 100, mime="image/gif")
    assert gif.status == 415


async def test_exif_orientation_is_applied_before_the_provider(svc, fake_gemini):
    await svc.slot("slot-002", "gemini", prompt="Replace the background with a beach")
    img = Image.open(PHOTOS / "astronaut_dslr_4500x3000.jpg")
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=90, exif=exif)
    r = svc.post("slot-002", buffer.getvalue())
    assert r.status == 200, r.body[:300]
    sent = next(p for p in fake_gemini.requests[0].parts if p[0] == "image")
    assert sent[1] == "image/jpeg"
    assert Image.open(io.BytesIO(sent[2])).size == (750, 1125)  # gemini-2.5-flash-image: 1024 px + DCT 1/4


async def test_a_full_slot_queues_the_next_photo_instead_of_refusing_it(svc, fake_gemini):
    await svc.slot("slot-004", "gemini", prompt="Make it a comic", max_in_flight=1)
    fake_gemini.reset(latency=2.0)
    first, second = overlapping(
        lambda: svc.post("slot-004"), lambda: svc.post("slot-004"), started=lambda: fake_gemini.requests
    )
    assert first.status == 200 and second.status == 200
    waited = (await svc.job(second.headers["x-job-id"])).queue_ms
    assert waited >= 900  # it waited for the first photo's place, then ran
    assert (await svc.job(first.headers["x-job-id"])).queue_ms < 500


async def test_in_flight_limit_gives_429_when_the_wait_cannot_fit(svc, fake_gemini):
    import concurrent.futures

    await svc.setting("sync_response_seconds", 10)
    # 3-Pro's documented typical latency (20 s) cannot fit a 10 s deadline behind another photo
    await svc.slot(
        "slot-004", "gemini", prompt="Make it a comic", settings={"model": "gemini-3-pro-image"}, max_in_flight=1
    )
    fake_gemini.reset(default="hang")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first = pool.submit(svc.post, "slot-004")
        while not fake_gemini.requests:  # the first photo holds the slot's only place, at the provider
            time.sleep(0.05)
        second = pool.submit(svc.post, "slot-004").result()
        first.result()
    assert second.status == 429 and second.json()["failure_reason"] == "rate_limited" and second.elapsed < allowed(3)
    assert int(second.headers["retry-after"]) >= 1
    job = await svc.job(second.json()["job_id"])
    assert job.input_path is not None  # the photo is kept even when refused for load


async def test_health_and_metrics(svc):
    assert svc.http.get("/healthz").json() == {"status": "ok"}
    ready = svc.http.get("/readyz").json()
    assert ready == {"status": "ok", "checks": {"database": "ok", "media": "ok", "disk": "ok"}}
    await svc.slot("slot-001", "local")
    svc.post("slot-001")
    metrics = svc.http.get("/metrics").text
    assert 'photochanger_ingest_requests_total{outcome="ok",slot="slot-001"}' in metrics


async def test_logs_never_contain_the_password(svc):
    await svc.slot("slot-001", "local")
    svc.post("slot-001")
    svc.post("slot-001", password="wrong-password-123")
    log = svc.log_path.read_text()
    assert '"ingest.done"' in log and '"ingest.failed"' in log
    assert INGEST_PASSWORD not in log and "wrong-password-123" not in log


def _now() -> datetime:
    return datetime.now(UTC)
