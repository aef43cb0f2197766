"""Security headers on every response, a strict CSP on the pages, and stored originals served
only as the image type their bytes show (never the client's declared type)."""

import httpx

from tests.conftest import Service


def test_every_response_has_nosniff_and_pages_a_strict_csp(service):
    for path in ("/ui/", "/gallery", "/healthz", "/api/slots"):
        r = service.http.get(f"{path}")
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "same-origin" and r.headers["x-frame-options"] == "DENY", path
    csp = service.http.get("/ui/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "content-security-policy" not in service.http.get("/healthz").headers


async def test_a_non_image_original_is_served_as_an_inert_download(svc):
    await svc.slot("slot-013", "local")
    page = b"<html><script>alert(document.cookie)</script></html>"
    r = svc.post("slot-013", page, mime="text/html", filename="photo.html")
    assert r.status == 415
    original = svc.api.get(f"/api/jobs/{r.json()['job_id']}/original")
    assert original.status_code == 200 and original.content == page
    assert original.headers["content-type"] == "application/octet-stream"
    assert original.headers["content-disposition"].startswith("attachment")
    photo = svc.post("slot-013")
    assert svc.api.get(f"/api/jobs/{photo.headers['x-job-id']}/original").headers["content-type"] == "image/jpeg"


def test_docs_off_metrics_token_and_first_start_secrets_kept_out_of_logs(fake_gemini, tmp_path):
    """A fresh install: Swagger UI (third-party scripts) is off, /metrics needs its token, and the
    generated first-start credentials go to a 0600 file, not into a non-terminal stdout."""
    server = Service(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}", tmp_path, fake_gemini, name="fresh")
    del server.env["PHOTOCHANGER_INGEST_PASSWORD"]  # generated on first start
    server.env["PHOTOCHANGER_METRICS_TOKEN"] = "metrics-token-0123456789"
    server.start()
    try:
        assert httpx.get(f"{server.base_url}/docs").status_code == 404
        assert httpx.get(f"{server.base_url}/openapi.json").status_code == 200
        denied = httpx.get(f"{server.base_url}/metrics")
        assert denied.status_code == 401 and denied.json()["failure_reason"] == "invalid_token"
        allowed = httpx.get(f"{server.base_url}/metrics", headers={"Authorization": "Bearer metrics-token-0123456789"})
        assert allowed.status_code == 200 and "photochanger_ingest" in allowed.text
        secrets = tmp_path / "first-start-credentials.txt"
        assert secrets.stat().st_mode & 0o777 == 0o600
        text = secrets.read_text()
        password = text.split("Ingest password: ")[1].split()[0]
        admin_password = text.split("Admin login:     admin / ")[1].split()[0]
        log = server.log_path.read_text()
        assert password not in log and admin_password not in log and str(secrets) in log
        assert (tmp_path / "fresh.db").stat().st_mode & 0o777 == 0o600
    finally:
        server.stop()


def test_an_ingest_url_opened_in_a_browser_explains_itself(service):
    page = service.http.get("/api/ingest/slot-001")
    assert page.status_code == 405 and page.headers["allow"] == "POST"
    assert page.headers["content-type"].startswith("text/html") and "booth" in page.text and "/ui/" in page.text
    assert "<script" not in service.http.get("/api/ingest/<script>").text


def test_gallery_qr_and_favicon_are_served(service):
    qr = service.http.get("/api/public/gallery/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml") and b"<svg" in qr.content
    icon = service.http.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
