"""OpenAPI description of the ingest request and answers (the body is read as a raw stream)."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["status", "failure_reason", "detail", "job_id"],
    "properties": {
        "status": {"type": "string", "enum": ["error", "timeout"]},
        "failure_reason": {"type": "string"},
        "detail": {"type": "string"},
        "job_id": {"type": ["string", "null"]},
    },
}
_ERROR = {"content": {"application/json": {"schema": ERROR_SCHEMA}}}

INGEST_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["password", "fileToUpload"],
                    "properties": {
                        "password": {"type": "string"},
                        "fileToUpload": {"type": "string", "format": "binary", "description": "JPEG, PNG or WebP"},
                        "file": {"type": "string", "format": "binary", "description": "alias of fileToUpload"},
                        "hash": {"type": "string", "description": "stored as metadata, never checked"},
                    },
                    "additionalProperties": {"type": "string"},
                }
            }
        },
    },
    "responses": {
        "200": {
            "description": "The edited image, in the upload's format.",
            "headers": {
                "X-Job-Id": {"schema": {"type": "string"}},
                "X-Result-Url": {"schema": {"type": "string", "format": "uri"}},
            },
            "content": {
                m: {"schema": {"type": "string", "format": "binary"}} for m in ("image/jpeg", "image/png", "image/webp")
            },
        },
        **{
            str(code): {"description": text, **_ERROR}
            for code, text in [
                (400, "invalid_request"),
                (401, "invalid_password"),
                (403, "slot_disabled"),
                (404, "slot_not_found"),
                (413, "payload_too_large"),
                (415, "unsupported_media_type"),
                (422, "content_rejected"),
                (429, "rate_limited"),
                (500, "internal_error"),
                (502, "provider_error"),
                (503, "provider_unavailable"),
                (504, "provider_timeout"),
            ]
        },
    },
}
