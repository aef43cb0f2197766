"""Job admin API: list with filters and cursor, detail, original, rerun, last ingest requests."""

from tests.conftest import INGEST_PASSWORD, PHOTOS


async def test_list_filters_and_cursor_pagination(svc):
    await svc.slot("slot-011", "local")
    ids = [svc.post("slot-011").headers["x-job-id"] for _ in range(3)]
    failed = svc.post("slot-011", b"not an image").json()["job_id"]
    seen, cursor = [], None
    while True:
        page = svc.api.get(
            "/api/jobs", params={"slot_id": "slot-011", "limit": 2, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen[:4] == [failed, *reversed(ids)] and len(seen) == len(set(seen))
    done = svc.api.get("/api/jobs", params={"slot_id": "slot-011", "status": "done"}).json()["items"]
    assert {item["id"] for item in done} >= set(ids) and failed not in {item["id"] for item in done}
    assert all(item["result_url"] for item in done)
    future = svc.api.get("/api/jobs", params={"slot_id": "slot-011", "since": "2999-01-01T00:00:00Z"}).json()
    assert future["items"] == []
    recent = svc.api.get("/api/jobs", params={"slot_id": "slot-011", "since": "2000-01-01T00:00:00"}).json()
    assert {item["id"] for item in recent["items"]} >= set(ids)
    assert svc.api.get("/api/jobs", params={"status": "bogus"}).status_code == 422
    assert svc.api.get("/api/jobs", params={"cursor": "!!"}).status_code == 400


async def test_detail_original_and_rerun(svc):
    await svc.slot("slot-011", "local")
    job_id = svc.post("slot-011", PHOTOS / "astronaut.jpg", fields={"user_id": "Booth-7"}).headers["x-job-id"]
    detail = svc.api.get(f"/api/jobs/{job_id}").json()
    assert detail["client_fields"]["user_id"] == "Booth-7" and "password" not in detail["client_fields"]
    assert INGEST_PASSWORD not in str(detail)
    assert detail["attempt_log"][0]["provider"] == "local" and detail["input_width"] == 512
    assert svc.api.get(detail["original_url"]).content == (PHOTOS / "astronaut.jpg").read_bytes()
    rerun = svc.api.post(f"/api/jobs/{job_id}/rerun")
    assert rerun.status_code == 200
    again = await svc.job(rerun.json()["job_id"])
    assert again.source == "rerun" and again.client_fields == {"rerun_of": job_id} and again.status == "done"
    assert svc.api.post(f"/api/jobs/{'0' * 32}/rerun").status_code == 404
    assert svc.api.get(f"/api/jobs/{'0' * 32}").status_code == 404


async def test_last_ingest_requests_show_what_the_booth_sends_without_secrets(svc):
    await svc.slot("slot-012", "local")
    photo = (PHOTOS / "astronaut.jpg").read_bytes()
    files = {"fileToUpload": ("IMG_1.JPG", photo, "image/jpeg")}
    svc.http.post(
        f"{svc.base_url}/api/ingest/slot-012?booth=7",
        data={"password": INGEST_PASSWORD, "name": "PC-1"},
        files=files,
        headers={"Cookie": "session=secret-cookie", "X-Booth": "left"},
    )
    last = svc.api.get("/api/ingest/last", params={"limit": 5}).json()[0]
    assert last["slot_id"] == "slot-012" and last["query_string"] == "booth=7"
    assert last["client_fields"] == {"name": "PC-1"} and last["input_bytes"] == len(photo)
    assert last["client_headers"]["x-booth"] == "left" and "cookie" not in last["client_headers"]
    assert last["status"] == "done" and last["http_status"] == 200
