"""Late delivery: the booth is answered by its deadline, the AI photo that comes later reaches
the guest's take-home page, and a process that dies meanwhile does not lose it nor bill twice."""

import asyncio
import threading
import time

import pytest

from tests.conftest import PHOTOS
from tests.tools.processes import allowed

PROMPT = "Keep the person unchanged; replace the background with a sunny beach"
DEADLINE = 10  # seconds: the shortest the booth's deadline may be
PROVIDER_SECONDS = 13.0  # the AI answer misses the booth's deadline by 3 s


def _status(svc, job_id: str) -> dict:
    return svc.http.get(f"/public/results/{job_id}/status", timeout=10).json()


async def _until(svc, job_id: str, state: str, seconds: float) -> dict:
    """Poll the take-home page's status (as the page does) until ``state``, at most ``seconds``."""
    end = time.monotonic() + seconds
    while True:
        status = await asyncio.to_thread(_status, svc, job_id)
        if status["state"] == state or time.monotonic() > end:
            return status
        await asyncio.sleep(0.25)


async def test_the_booth_gets_the_original_by_its_deadline_and_the_guest_the_ai_photo_later(svc, fake_gemini):
    await svc.setting("sync_response_seconds", DEADLINE)
    await svc.slot("slot-012", "gemini", prompt=PROMPT, on_failure="original", late_delivery_minutes=2)
    fake_gemini.reset(latency=PROVIDER_SECONDS)
    original = (PHOTOS / "astronaut.jpg").read_bytes()
    r = await asyncio.to_thread(svc.post, "slot-012")
    assert r.status == 200 and r.body == original  # the booth prints the original, in time
    assert r.elapsed <= allowed(DEADLINE + 0.5)
    assert r.headers["x-photochanger-fallback"] == "original"
    assert r.headers["x-photochanger-late"] == "continuing"
    job_id = r.headers["x-job-id"]
    assert r.headers["x-result-url"].endswith(f"/r/{job_id}")  # the QR the booth printed
    making = await asyncio.to_thread(_status, svc, job_id)
    assert making["state"] == "making" and making["poll_seconds"]
    ready = await _until(svc, job_id, "ready", allowed(PROVIDER_SECONDS + 5))
    assert (ready["state"], ready["late"], ready["poll_seconds"], ready["title"]) == ("ready", True, None, None)
    assert ready["version"] != making["version"]
    image = svc.http.get(f"/public/results/{job_id}", timeout=10)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content != original  # the AI photo, at the same link
    job = await svc.job(job_id)
    assert (job.status, job.late_state, job.http_status, job.fallback) == ("done", "delivered", 200, "original")
    assert job.booth_result_path and job.booth_result_path != job.result_path
    assert [a.outcome for a in await svc.attempts(job_id)] == ["success"]
    assert len(fake_gemini.requests) == 1  # one call, kept past the booth's deadline
    detail = svc.api.get(f"/api/jobs/{job_id}").json()
    assert detail["late_state"] == "delivered" and detail["late_finished_at"] and detail["booth_result_url"]
    assert svc.api.get(detail["booth_result_url"]).content == original
    figures = svc.api.get("/api/stats/overview?window=1h").json()["slots"]["slot-012"]
    assert figures["late_deliveries"] >= 1  # apart from on-time successes


@pytest.mark.database_independent
async def test_without_a_local_look_or_the_original_the_booth_gets_504_and_the_guest_the_photo(svc, fake_gemini):
    await svc.setting("sync_response_seconds", DEADLINE)
    await svc.slot("slot-012", "gemini", prompt=PROMPT, late_delivery_minutes=2)
    fake_gemini.reset(latency=PROVIDER_SECONDS)
    r = await asyncio.to_thread(svc.post, "slot-012")
    assert r.status == 504 and r.json()["failure_reason"] == "provider_timeout"
    job_id = r.json()["job_id"]
    assert (await asyncio.to_thread(_status, svc, job_id))["state"] == "making"
    assert (await _until(svc, job_id, "ready", allowed(PROVIDER_SECONDS + 5)))["late"] is True
    job = await svc.job(job_id)
    assert (job.status, job.http_status, job.late_state) == ("done", 504, "delivered")
    assert job.booth_result_path is None


@pytest.mark.database_independent
async def test_an_answer_in_time_is_the_booths_and_nothing_goes_on(svc, fake_gemini):
    await svc.slot("slot-012", "gemini", prompt=PROMPT, late_delivery_minutes=2)
    r = await asyncio.to_thread(svc.post, "slot-012")
    assert r.status == 200 and "x-photochanger-late" not in r.headers
    job = await svc.job(r.headers["x-job-id"])
    assert job.late_state is None and job.status == "done"
    status = await asyncio.to_thread(_status, svc, job.id)
    assert {k: status[k] for k in ("state", "late", "version", "poll_seconds")} == {
        "state": "ready", "late": False, "version": job.result_path.rsplit("/", 1)[-1], "poll_seconds": None
    }  # fmt: skip


@pytest.mark.database_independent
async def test_an_admin_cancels_late_work(svc, fake_gemini):
    await svc.setting("sync_response_seconds", DEADLINE)
    await svc.slot("slot-012", "gemini", prompt=PROMPT, on_failure="original", late_delivery_minutes=2)
    fake_gemini.reset(default="hang")
    r = await asyncio.to_thread(svc.post, "slot-012")
    job_id = r.headers["x-job-id"]
    assert svc.api.get("/api/jobs/late").json()["continuing"] >= 1
    assert svc.api.post(f"/api/jobs/{job_id}/late/cancel").status_code == 204
    assert svc.api.post(f"/api/jobs/{job_id}/late/cancel").json()["failure_reason"] == "not_continuing"
    job = await svc.job(job_id)
    assert job.late_state == "cancelled" and job.status == "done"  # the guest keeps the original
    assert (await asyncio.to_thread(_status, svc, job_id))["state"] == "ready"


@pytest.mark.database_independent
async def test_late_work_keeps_no_in_flight_place_a_booth_needs(svc, fake_gemini):
    await svc.setting("sync_response_seconds", DEADLINE)
    await svc.slot("slot-012", "gemini", prompt=PROMPT, on_failure="original", late_delivery_minutes=2, max_in_flight=1)
    fake_gemini.reset("hang", "success")  # the first photo's call never ends; the next one's answers
    first = await asyncio.to_thread(svc.post, "slot-012")
    assert first.headers["x-photochanger-late"] == "continuing"
    second = await asyncio.to_thread(svc.post, "slot-012")  # the slot's one place is free for it
    assert second.status == 200 and "x-photochanger-fallback" not in second.headers
    assert second.elapsed <= allowed(3)
    assert svc.api.post(f"/api/jobs/{first.headers['x-job-id']}/late/cancel").status_code == 204


@pytest.mark.served  # kill -9
async def test_a_killed_process_leaves_the_late_job_to_the_next_and_no_call_unrecorded(svc, fake_gemini):
    await svc.setting("sync_response_seconds", DEADLINE)
    await svc.slot("slot-012", "gemini", prompt=PROMPT, on_failure="original", late_delivery_minutes=2)
    fake_gemini.reset(latency=60)  # still in flight when the process dies
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(svc.post("slot-012")))
    thread.start()
    thread.join()
    [r] = answers
    assert r.status == 200 and r.headers["x-photochanger-late"] == "continuing"
    job_id = r.headers["x-job-id"]
    svc.stop(kill=True)  # kill -9 during the late call
    fake_gemini.latency = 0.5
    await asyncio.to_thread(svc.start)
    ready = await _until(svc, job_id, "ready", allowed(20))
    assert ready["state"] == "ready" and ready["late"] is True
    attempts = await svc.attempts(job_id)
    assert [a.outcome for a in attempts] == ["interrupted", "success"]
    assert len(fake_gemini.requests) == len(attempts)  # every call the provider saw is on record


@pytest.fixture(autouse=True)
async def _slot_back(svc):
    yield
    await svc.slot("slot-012")
