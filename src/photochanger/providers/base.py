"""The provider interface: photo + templates + prompt + settings + time budget → image bytes.

A provider either returns a :class:`ProviderImage` or raises :class:`ProviderFailure` whose
:class:`FailureKind` tells the runner whether to retry (``../shared/provider-protocols.md`` §4).
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Protocol

from pydantic import BaseModel


@dataclass(frozen=True)
class InputImage:
    """An image handed to a provider: encoded bytes, their MIME type, and the slot role."""

    data: bytes
    mime: str
    role: str = "photo"


@dataclass(frozen=True)
class ProviderRequest:
    """One attempt: ``timeout`` is the seconds this attempt may take (already deadline-capped);
    ``api_key`` the provider key in force (settings in the database, else the environment);
    ``publish`` makes an image fetchable at a public URL until the job's deadline (None when no
    ``PUBLIC_BASE_URL`` is configured)."""

    photo: InputImage
    templates: Sequence[InputImage]
    prompt: str
    settings: BaseModel
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


class FailureKind(StrEnum):
    """How a failed attempt is handled (source: provider-protocols.md §4)."""

    RETRYABLE = "retryable"  # fast, stochastic or transient (NO_IMAGE, 5xx, reset): retry
    RATE_LIMITED = "rate_limited"  # 429 with a retry hint: retry if the hint fits the deadline
    TIMEOUT = "timeout"  # the attempt used its whole budget
    CONTENT_REJECTED = "content_rejected"  # safety block: never retried (same input, same block)
    UNAVAILABLE = "unavailable"  # no key, bad key, quota or billing: not retried
    CONFIG = "config"  # 400/403/404: a configuration bug, not retried


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


class Provider(Protocol):
    """What every provider implements. ``settings_model`` validates a slot's settings
    (unknown keys rejected); ``requires_prompt`` makes an empty slot prompt a save-time error, and
    ``requires_public_url`` a missing ``PUBLIC_BASE_URL``."""

    name: ClassVar[str]
    settings_model: ClassVar[type[BaseModel]]
    requires_prompt: ClassVar[bool]
    requires_public_url: ClassVar[bool] = False

    def model_name(self, settings: BaseModel) -> str | None:
        """The model id this attempt uses, for the job record (None if not applicable)."""

    def typical_latency(self, settings: BaseModel) -> float:
        """Expected seconds for one attempt (p50), used to decide if a retry still fits."""

    async def generate(self, request: ProviderRequest) -> ProviderImage:
        """Run one attempt. Raises :class:`ProviderFailure`; may be cancelled at the deadline."""
