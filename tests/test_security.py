"""Security headers on every response, a strict CSP on the pages, and stored originals served
only as the image type their bytes show (never the client's declared type)."""

import httpx


def test_every_response_has_nosniff_and_pages_a_strict_csp(service):
    for path in ("/ui/", "/gallery", "/healthz", "/api/slots"):
        r = httpx.get(f"{service.base_url}{path}")
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "same-origin" and r.headers["x-frame-options"] == "DENY", path
    csp = httpx.get(f"{service.base_url}/ui/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "content-security-policy" not in httpx.get(f"{service.base_url}/healthz").headers


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
