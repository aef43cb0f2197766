"""The JSON error every public endpoint answers with, and its FastAPI handlers.

Body shape (top level): ``{"status": "error"|"timeout", "failure_reason": str, "detail": str,
"job_id": str|null}``. ``failure_reason`` values are stable identifiers that clients may match on.
"""

from typing import Any, Literal

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from photochanger.db import STORAGE_ERRORS

log = structlog.get_logger("photochanger.errors")


class ErrorBody(BaseModel):
    """The JSON body of every error answer."""

    status: Literal["error", "timeout"]
    failure_reason: str
    detail: str
    job_id: str | None
    problem: dict[str, Any] | None = Field(
        default=None,
        description="what is wrong, for translations: a stable code and its values (422 invalid_settings)",
    )


#: Documented on every JSON router, so OpenAPI states the real error shape (also for 422).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in [
        (400, "Malformed request"),
        (401, "Missing, invalid or expired bearer token"),
        (404, "Not found"),
        (422, "Invalid values"),
        (429, "Too many requests"),
        (500, "Unexpected server error"),
        (503, "The database or the media store is unavailable (storage_unavailable, Retry-After)"),
    ]
}


class ApiError(Exception):
    """An answer other than success: HTTP status, stable ``failure_reason``, human ``detail``."""

    def __init__(
        self,
        http_status: int,
        failure_reason: str,
        detail: str,
        *,
        job_id: str | None = None,
        status: str = "error",
        headers: dict[str, str] | None = None,
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{http_status} {failure_reason}: {detail}")
        self.problem = problem
        self.http_status = http_status
        self.failure_reason = failure_reason
        self.detail = detail
        self.job_id = job_id
        self.status = status
        self.headers = headers or {}

    @classmethod
    def storage_unavailable(cls, what: str = "media storage cannot be reached") -> "ApiError":
        """503 ``storage_unavailable`` with ``Retry-After: 30``: the database or the media store
        takes no write or cannot be reached (``what`` says which and why)."""
        return cls(503, "storage_unavailable", f"{what}; retry shortly", headers={"Retry-After": "30"})

    def body(self) -> dict[str, Any]:
        """The JSON body of this error (``problem`` only when there is one)."""
        body: dict[str, Any] = {
            "status": self.status,
            "failure_reason": self.failure_reason,
            "detail": self.detail,
            "job_id": self.job_id,
        }
        if self.problem is not None:
            body["problem"] = self.problem
        return body


def error_docs(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries with the error body for ``codes``."""
    return {
        code: {"model": ErrorBody, "description": ERROR_RESPONSES.get(code, {}).get("description", "Error")}
        for code in codes
    }


def error_response(error: ApiError) -> JSONResponse:
    """Render ``error`` as a JSON response (never cached)."""
    headers = {"Cache-Control": "no-store", **error.headers}
    return JSONResponse(error.body(), status_code=error.http_status, headers=headers)


_HTTP_REASONS = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}


def install_error_handlers(app: FastAPI) -> None:
    """Make every error, including framework 404/405/422 and crashes, use the JSON shape above."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = _HTTP_REASONS.get(exc.status_code, "http_error")
        return error_response(ApiError(exc.status_code, reason, str(exc.detail)))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return error_response(ApiError(422, "invalid_request", problems[:2000]))

    async def _storage_fault(request: Request, exc: Exception) -> JSONResponse:
        cause = getattr(exc, "orig", None) or exc
        log.warning("storage.unavailable", path=request.url.path, error=type(cause).__name__, detail=str(cause)[:300])
        return error_response(ApiError.storage_unavailable("the database cannot be reached or takes no writes"))

    # every database error, on any route: unreachable, restarting, locked past its timeout,
    # read-only, corrupt, replaced (photochanger.db turns a driver's raw connect errors into these)
    for fault in STORAGE_ERRORS:
        app.add_exception_handler(fault, _storage_fault)

    @app.exception_handler(Exception)
    async def _crash(_request: Request, _exc: Exception) -> JSONResponse:
        return error_response(ApiError(500, "internal_error", "unexpected server error"))
