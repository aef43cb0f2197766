"""A job left pending by a crash is marked ``interrupted`` once the server is back."""

import asyncio
import threading
import time

import pytest
from sqlalchemy import select

from photochanger.jobs.models import Job

pytestmark = pytest.mark.served  # kill -9 of the server


async def test_killed_server_leaves_an_interrupted_job(svc, fake_gemini):
    await svc.setting("sync_response_seconds", 10)
    await svc.slot("slot-006", "gemini", prompt="Paint it")
    fake_gemini.reset(default="hang")

    def post() -> None:
        try:
            svc.post("slot-006")
        except OSError:
            pass  # the server dies under us

    thread = threading.Thread(target=post)
    thread.start()
    for _ in range(100):  # a new transaction per poll: a SQLite read transaction is a fixed snapshot
        async with svc.db.transaction() as session:
            job = await session.scalar(select(Job).where(Job.slot_id == "slot-006", Job.status == "pending"))
        if job and job.input_path:
            break
        await asyncio.sleep(0.1)
    assert job is not None and job.input_path
    svc.stop(kill=True)
    thread.join()
    wait = (job.deadline_at.timestamp() - time.time()) + 0.5
    await asyncio.sleep(max(0, wait))
    await asyncio.to_thread(svc.start)
    for _ in range(50):
        recovered = await svc.job(job.id)
        if recovered.status != "pending":
            break
        await asyncio.sleep(0.1)
    assert recovered.status == "interrupted" and recovered.failure_reason == "interrupted"
    assert (svc.media / recovered.input_path).exists()  # the original photo is not lost
