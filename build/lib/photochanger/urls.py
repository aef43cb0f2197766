"""Every public URL the service hands out, built in one place.

``base`` is ``PUBLIC_BASE_URL`` when configured, else the base URL the request came in on
(:func:`public_base`); all results are absolute URLs without a trailing slash issue.
"""


def public_base(configured: str | None, request_base: str) -> str:
    """``configured`` (``PUBLIC_BASE_URL``) or the request's base URL, without trailing slash."""
    return (configured or request_base).rstrip("/")


def ingest_url(base: str, slot_id: str) -> str:
    """The URL a booth posts to for ``slot_id``."""
    return f"{base}/api/ingest/{slot_id}"


def result_url(base: str, job_id: str) -> str:
    """The result image of a job (``?download=1`` makes it an attachment)."""
    return f"{base}/public/results/{job_id}"


def thumbnail_url(base: str, job_id: str) -> str:
    """A 320 px JPEG of a job's result."""
    return f"{base}/public/results/{job_id}/thumbnail"


def take_home_url(base: str, job_id: str) -> str:
    """The guest's result page with download button and QR code."""
    return f"{base}/r/{job_id}"


def provider_media_url(base: str, token: str) -> str:
    """A short-lived provider input (Turbotext fetches inputs by URL)."""
    return f"{base}/public/provider-media/{token}"
