"""The provider interface: photo + templates + prompt + settings + time budget → image bytes.

A provider either returns a :class:`ProviderImage` or raises :class:`ProviderFailure` whose
:class:`FailureKind` tells the router whether to retry (``docs/providers.md``).
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from photochanger.providers.pricing import TokenUsage


@dataclass(frozen=True)
class InputImage:
    """An image handed to a provider: encoded bytes, their MIME type, and the slot role."""

    data: bytes
    mime: str
    role: str = "photo"


class ProviderSettings(BaseModel):
    """What every provider's slot settings share: unknown keys are refused, and an optional cap
    on one attempt in seconds (default: what the route's recent latency justifies)."""

    model_config = ConfigDict(extra="forbid")

    attempt_timeout_seconds: float | None = Field(
        default=None, ge=5, le=60, description="Cap per attempt in seconds; default: 1.5 × the route's recent p95."
    )
    input_max_side: int | None = Field(
        default=None,
        ge=256,
        le=8192,
        description="Long side (px) of the photo sent; default: what the model works from.",
    )

    @classmethod
    def unavailable_settings(cls) -> dict[str, str]:
        """Settings that need an optional extra not installed here, each with its install hint
        (the editor shows them disabled with the hint); none by default."""
        return {}


S = TypeVar("S", bound=ProviderSettings)
S = TypeVar("S", bound=ProviderSettings)


@dataclass(frozen=True)
class ProviderRequest(Generic[S]):
    """One attempt: ``timeout`` is the seconds this attempt may take (already deadline-capped);
    ``api_key`` the provider key in force (settings in the database, else the environment);
    ``publish`` makes an image fetchable at a public URL until the job's deadline (None when no
    ``PUBLIC_BASE_URL`` is configured)."""

    photo: InputImage
    templates: Sequence[InputImage]
    prompt: str
    settings: S
    timeout: float
    api_key: str | None = None
    publish: Callable[[InputImage], Awaitable[str]] | None = None


@dataclass(frozen=True)
class ProviderImage:
    """A provider's image: raw bytes (format sniffed by the caller; labels can lie), and the
    estimated cost in US dollars where the provider reports usage."""

    data: bytes
    model: str | None = None
    request_id: str | None = None
    cost_usd: float | None = None
    usage: TokenUsage | None = None  # the tokens reported, to price the call again (``model_prices``)


class FailureKind(StrEnum):
    """How a failed attempt is handled: retried, moved on from, counted against the route's health
    (the circuit breaker) or against one API key. Source: ``docs/providers.md`` (failure classes).

    The router decides from the kind alone, never from the text of ``code``.
    """

    NO_IMAGE = "no_image"  # the model answered without an image (NO_IMAGE, text only): retry at once
    PEOPLE_LOST = "people_lost"  # the answer lost (or added) people the photo had: retry at once
    SERVER_ERROR = "server_error"  # 5xx, connection refused/reset: short jittered back-off, then retry
    UNEXPECTED_RESPONSE = "unexpected_response"  # HTML, bad JSON/base64, undecodable image: like a 5xx
    RATE_LIMITED = "rate_limited"  # 429 with a retry hint: retry if the hint fits the deadline
    TIMEOUT = "timeout"  # the attempt used its whole budget
    CONTENT_REJECTED = "content_rejected"  # safety block: never retried on the same route
    KEY_REJECTED = "key_rejected"  # this API key was refused (invalid, no permission): try the next key
    QUOTA_EXHAUSTED = "quota_exhausted"  # this key's quota is gone (per day, limit 0): next key, else move on
    UNAVAILABLE = "unavailable"  # no key configured, billing disabled: not retried
    CONFIG = "config"  # 400/404, a missing template: a configuration bug, not retried
    BUDGET_EXHAUSTED = "budget_exhausted"  # the spend cap leaves no room: never sent, the next route

    @property
    def is_outage(self) -> bool:
        """Evidence that the route itself is failing (counts towards opening its circuit)."""
        return self in _OUTAGE_KINDS

    @property
    def is_key_failure(self) -> bool:
        """The key in use was refused: set it aside and try another key of the same provider."""
        return self in (FailureKind.KEY_REJECTED, FailureKind.QUOTA_EXHAUSTED)


_OUTAGE_KINDS = frozenset(
    {FailureKind.SERVER_ERROR, FailureKind.UNEXPECTED_RESPONSE, FailureKind.TIMEOUT, FailureKind.QUOTA_EXHAUSTED}
)


@dataclass
class ProviderFailure(Exception):
    """A classified failed attempt. ``code`` is provider-specific (e.g. ``NO_IMAGE``, ``http_503``);
    ``retry_after`` the server's hint in seconds, if any."""

    kind: FailureKind
    code: str
    detail: str = ""
    retry_after: float | None = None
    request_id: str | None = None
    extra: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.kind}:{self.code}: {self.detail}"


class Provider(Protocol[S]):
    """What every provider implements. ``settings_model`` validates a slot's settings
    (unknown keys rejected); ``requires_prompt`` makes an empty slot prompt a save-time error, and
    ``requires_public_url`` a missing ``PUBLIC_BASE_URL``; ``circuit_breaker`` False for a provider
    that is this server's own CPU (``local``): slowness there is load, not an outage, and a circuit
    would only turn a late photo into an instant 503."""

    name: ClassVar[str]
    settings_model: ClassVar[type[ProviderSettings]]
    requires_prompt: ClassVar[bool]
    requires_public_url: ClassVar[bool] = False
    circuit_breaker: ClassVar[bool]

    def model_name(self, settings: S) -> str | None:
        """The model id this attempt uses, for the job record (None if not applicable)."""
        ...

    def typical_latency(self, settings: S) -> float:
        """Expected seconds for one attempt (p50), used to decide if a retry still fits."""
        ...

    def input_side(self, settings: S) -> int | None:
        """Long side in pixels of the photo copy this model works from (None: the photo's own
        size). Larger copies cost upload time and input tokens and buy nothing; the table and its
        sources are in ``docs/providers.md`` (photo sizes)."""
        ...

    async def generate(self, request: ProviderRequest[S]) -> ProviderImage:
        """Run one attempt. Raises :class:`ProviderFailure`; may be cancelled at the deadline."""
        ...
