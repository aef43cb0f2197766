"""``POST /api/ingest/{slot_id}`` (and the alias ``POST /ingest/{slot_id}``): thin HTTP layer."""

from fastapi import APIRouter, Request, Response

from photochanger.ingest.schemas import INGEST_OPENAPI
from photochanger.ingest.service import IngestRequest, IngestService

router = APIRouter(tags=["ingest"])


@router.post("/api/ingest/{slot_id}", openapi_extra=INGEST_OPENAPI, response_class=Response)
@router.post("/ingest/{slot_id}", include_in_schema=False, response_class=Response)
async def ingest(slot_id: str, request: Request) -> Response:
    """Take a booth photo (multipart/form-data) and answer with the edited image."""
    try:
        content_length = int(request.headers["content-length"])
    except (KeyError, ValueError):
        content_length = None
    success = await IngestService(request.app.state.ctx).ingest(
        IngestRequest(
            slot_id=slot_id,
            content_type=request.headers.get("content-type", ""),
            content_length=content_length,
            body=request.stream(),
            client_ip=request.client.host if request.client else None,
            query_string=request.url.query,
            base_url=str(request.base_url),
            headers=dict(request.headers),
        )
    )
    headers = {"Cache-Control": "no-store", "X-Job-Id": success.job_id, "X-Result-Url": success.result_url}
    if success.fallback:
        headers["X-PhotoChanger-Fallback"] = success.fallback
    return Response(success.image.data, media_type=success.image.mime, headers=headers)
