"""The JSON error every public endpoint answers with, and its FastAPI handlers.

Body shape (top level): ``{"status": "error"|"timeout", "failure_reason": str, "detail": str,
"job_id": str|null}``. ``failure_reason`` values are stable identifiers that clients may match on.
"""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


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
    ) -> None:
        super().__init__(f"{http_status} {failure_reason}: {detail}")
        self.http_status = http_status
        self.failure_reason = failure_reason
        self.detail = detail
        self.job_id = job_id
        self.status = status
        self.headers = headers or {}

    def body(self) -> dict[str, str | None]:
        """The JSON body of this error."""
        return {
            "status": self.status,
            "failure_reason": self.failure_reason,
            "detail": self.detail,
            "job_id": self.job_id,
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
        return error_response(ApiError(400, "invalid_request", str(exc.errors())))

    @app.exception_handler(Exception)
    async def _crash(_request: Request, _exc: Exception) -> JSONResponse:
        return error_response(ApiError(500, "internal_error", "unexpected server error"))
