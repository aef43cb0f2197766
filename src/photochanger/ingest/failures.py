"""How a failed run becomes the booth's answer: failure class → HTTP status and ``failure_reason``.

The one place that maps :class:`~photochanger.providers.base.FailureKind` to HTTP. Statuses:
422 content block (the same photo would be blocked again), 503 when no provider could be asked
(no usable key, quota, a rate limit longer than the deadline, every route's circuit open), 504 when
the deadline ran out, 502 ``people_lost`` when every answer lost the people of the photo, 502
``provider_error`` for every other provider failure.
"""

from photochanger.errors import ApiError
from photochanger.providers.base import FailureKind, ProviderFailure

STATUS_BY_KIND: dict[FailureKind, tuple[int, str]] = {
    FailureKind.CONTENT_REJECTED: (422, "content_rejected"),
    FailureKind.UNAVAILABLE: (503, "provider_unavailable"),
    FailureKind.KEY_REJECTED: (503, "provider_unavailable"),
    FailureKind.QUOTA_EXHAUSTED: (503, "provider_unavailable"),
    FailureKind.RATE_LIMITED: (503, "provider_unavailable"),
    FailureKind.TIMEOUT: (504, "provider_timeout"),
    FailureKind.SERVER_ERROR: (502, "provider_error"),
    FailureKind.UNEXPECTED_RESPONSE: (502, "provider_error"),
    FailureKind.NO_IMAGE: (502, "provider_error"),
    FailureKind.PEOPLE_LOST: (502, "people_lost"),
    FailureKind.CONFIG: (502, "provider_error"),
    FailureKind.BUDGET_EXHAUSTED: (503, "budget_exhausted"),
}
CIRCUIT_RETRY_AFTER_SECONDS = 30


def failure_answer(failure: ProviderFailure) -> ApiError:
    """The JSON error for a run that ended with ``failure`` (``status: timeout`` for 504)."""
    http_status, reason = STATUS_BY_KIND[failure.kind]
    detail = f"{failure.code}: {failure.detail}" if failure.detail else failure.code
    headers = {"Retry-After": str(CIRCUIT_RETRY_AFTER_SECONDS)} if failure.code == "circuit_open" else None
    status = "timeout" if http_status == 504 else "error"
    return ApiError(http_status, reason, detail[:500], status=status, headers=headers)
