"""The owner's alert webhook (``alert_webhook_url``): one JSON POST per event, in the background."""

import httpx
import structlog

log = structlog.get_logger("photochanger.alerts")
ALERT_TIMEOUT_SECONDS = 5.0


async def post_alert(url: str, payload: dict) -> None:
    """POST ``payload`` (with its ``event``) to ``url``; failures are logged, never raised."""
    try:
        async with httpx.AsyncClient(timeout=ALERT_TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = await client.post(url, json=payload)
        log.info("alert.sent", status=response.status_code, alert=payload.get("event"))
    except httpx.HTTPError as exc:
        log.warning("alert.failed", error=type(exc).__name__, alert=payload.get("event"))
