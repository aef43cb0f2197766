"""Process configuration from the environment (prefix ``PHOTOCHANGER_``, ``.env`` supported).

Values that operators change at run time (ingest password, sync deadline, result TTL) live in the
database (see :mod:`photochanger.settings`); the environment only seeds them on first start.
"""

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import platformdirs
from cryptography.fernet import Fernet
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from photochanger.keyfiles import load_or_create

MIN_INGEST_PASSWORD = 4  # the same rule as the admin API's
MIN_JWT_SECRET_BYTES = 32
PLACEHOLDERS = frozenset({"changethis", "changeme", "change-me", "secret", "password", "test", "example", "default"})


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DATABASE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


def _refuse_placeholder(value: str, name: str) -> None:
    if value.strip().lower() in PLACEHOLDERS:
        raise ValueError(f"{name} is a placeholder ({value!r}); set a real secret")


def check_ingest_password(value: str, name: str = "the ingest password") -> str:
    """The one rule for an ingest password, however it is set (environment, API, CLI): 4–128
    characters, no leading or trailing spaces, not a placeholder. Raises ``ValueError``."""
    if not MIN_INGEST_PASSWORD <= len(value) <= 128 or value != value.strip():
        raise ValueError(f"{name} must be {MIN_INGEST_PASSWORD}–128 characters without leading or trailing spaces")
    _refuse_placeholder(value, name)
    return value


def check_http_url(value: str) -> str:
    """``value`` when it is an absolute ``http://`` or ``https://`` URL with a host and no spaces.
    Raises ``ValueError`` (``javascript:…``, ``booth.example.com`` without a scheme, ``http://``)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError(f"must be an http:// or https:// URL with a host, not {value[:80]!r}")
    return value


def default_data_dir() -> Path:
    """The per-user data folder (``platformdirs``), the same wherever a command is run from:
    ``~/.local/share/photochanger`` on Linux (``$XDG_DATA_HOME``), ``%LOCALAPPDATA%\\photochanger``
    on Windows, ``~/Library/Application Support/photochanger`` on macOS."""
    return Path(platformdirs.user_data_dir("photochanger", appauthor=False))


class Config(BaseSettings):
    """Environment configuration. Sizes are bytes, times seconds unless the name says otherwise."""

    model_config = SettingsConfigDict(env_prefix="PHOTOCHANGER_", env_file=".env", extra="ignore", allow_inf_nan=False)

    data_dir: Path = Field(
        default_factory=lambda: default_data_dir(),
        description="Holds the SQLite file, the secrets and, by default, media/ (default: the per-user data folder).",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default sqlite+aiosqlite in DATA_DIR."
    )
    media_root: Path | None = Field(
        default=None,
        description="Media folder (and, with MEDIA_URL, the scratch folder of uploads); default DATA_DIR/media.",
    )
    media_url: str | None = Field(
        default=None, description="s3://bucket/prefix: keep originals, results and templates in S3-compatible storage."
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="Endpoint of a non-AWS S3 store (SeaweedFS, MinIO…), e.g. http://127.0.0.1:8333."
    )
    s3_presign_seconds: int = Field(
        default=0,
        ge=0,
        le=3600,
        description="With MEDIA_URL: >0 redirects result downloads to presigned URLs valid this long.",
    )
    public_base_url: str | None = Field(
        default=None, description="Absolute base for X-Result-Url, e.g. https://booth.example.com."
    )
    ingest_password: str | None = Field(default=None, description="Initial ingest password (seed only).")
    sync_response_seconds: int = Field(default=48, ge=10, le=60, description="Initial sync deadline (seed only).")
    result_ttl_hours: int = Field(default=168, ge=1, le=720, description="Initial result TTL (seed only).")
    max_upload_mb: float = Field(
        default=20, gt=0, le=1024, description="Default ingest upload limit, per slot overridable."
    )
    slot_max_in_flight: int = Field(default=4, ge=1, description="Default in-flight ingests per slot.")
    provider_max_in_flight: int = Field(default=32, ge=1, description="In-flight ingests per provider (seed only).")
    provider_image_max_side: int | None = Field(
        default=None,
        ge=256,
        le=8192,
        description="Long side (px) sent to every route; default: per model (docs/providers.md).",
    )
    max_image_pixels: int = Field(
        default=50_000_000,
        ge=1_000_000,
        le=200_000_000,
        description="Uploads with more pixels are refused (415) undecoded.",
    )
    route_failure_threshold: int = Field(
        default=3, ge=1, description="Outage failures in a row (5xx, bad answers) that open a route's circuit."
    )
    route_probe_interval_seconds: float = Field(
        default=30, ge=1, description="Seconds between background probes of an open route (one provider call each)."
    )
    attempt_timeout_floor_seconds: float = Field(
        default=10, ge=1, le=60, description="Lowest attempt timeout when a later route could answer instead."
    )
    key_aside_seconds: float = Field(
        default=600, ge=10, description="How long a refused API key is set aside (at least 10 s)."
    )
    cleanup_interval_seconds: int = Field(default=600, ge=10, description="Period of the background cleanup.")
    webhook_allow_loopback: bool = Field(
        default=False,
        description="Let the photo webhook reach loopback and link-local addresses (off: a webhook URL is "
        "never this machine, its link or cloud metadata).",
    )
    late_lease_seconds: float = Field(
        default=30,
        ge=3,
        le=600,
        description="Lease of a late-delivery job on its server process (renewed every third of it); "
        "another process takes the job over this long after its process died.",
    )
    password_hash_cost: Literal["standard", "minimal"] = Field(
        default="standard",
        description="argon2id cost of admin passwords: standard (RFC 9106's second recommended option: 3 passes "
        "over 64 MiB, ~0.2 s of CPU per login) or minimal (8 KiB, 1 pass: for test suites only; the service warns "
        "at start, and a minimal hash is replaced by a standard one at the next login under standard).",
    )
    jwt_secret: str | None = Field(default=None, description="HS256 signing key; default generated into DATA_DIR.")
    secret_key: str | None = Field(default=None, description="Fernet key for stored provider keys; default generated.")
    token_ttl_hours: int = Field(default=168, ge=1, le=24 * 90, description="Admin session (JWT) lifetime.")
    forwarded_allow_ips: str = Field(
        default="", description="Proxies trusted for X-Forwarded-For (comma-separated IPs/networks); default none."
    )
    api_docs: bool = Field(
        default=False, description="Serve the interactive API docs at /docs (loads Swagger UI from a CDN)."
    )
    metrics_token: str | None = Field(
        default=None, description="When set, /metrics needs 'Authorization: Bearer <token>'."
    )
    upload_idle_seconds: float = Field(
        default=30, ge=1, le=300, description="A booth upload that sends no byte for this long is dropped (408)."
    )
    min_free_disk_mb: int = Field(
        default=200, ge=0, description="/readyz fails when the media disk has less free space."
    )
    max_unauthenticated_uploads: int = Field(
        default=64,
        ge=1,
        description="Uploads streaming before their password is verified; one more evicts the slowest.",
    )
    unauthenticated_upload_seconds: float = Field(
        default=60,
        ge=5,
        le=600,
        description="Longest time an upload may take before its password checks out (else 408).",
    )
    unauthenticated_min_bytes_per_second: float = Field(
        default=4096,
        ge=1,
        description="Average rate an upload must keep, after 5 s, until its password checks out (else 408).",
    )
    header_timeout_seconds: float = Field(
        default=10,
        ge=1,
        le=120,
        description="A client must send its request line and headers within this time (else 408).",
    )
    max_header_bytes: int = Field(
        default=64 * 1024, ge=8 * 1024, le=1024 * 1024, description="Request line plus headers over this size get 431."
    )
    max_connections_reading_headers: int = Field(
        default=512,
        ge=8,
        description="Connections per process still sending headers; one more closes the oldest of them.",
    )
    ingest_password_failures: int = Field(
        default=20, ge=1, description="Wrong ingest passwords per client IP in 5 minutes before it is refused (429)."
    )
    gemini_api_key: str | None = None
    gemini_base_url: str | None = Field(
        default=None, description="Override of https://generativelanguage.googleapis.com."
    )
    openai_api_key: str | None = None
    openai_base_url: str | None = Field(default=None, description="Override of https://api.openai.com/v1.")
    turbotext_api_key: str | None = None
    turbotext_base_url: str | None = Field(default=None, description="Override of https://www.turbotext.ru/api_ai.")
    provider_max_answer_mb: float = Field(
        default=64,
        gt=0,
        le=1024,
        description="A provider answer over this size is cut off (failed attempt, unexpected_response).",
    )
    turbotext_poll_seconds: float = Field(default=2.0, ge=0.1, le=10, description="Interval of get_result polls.")
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL.")

    @field_validator("ingest_password")
    @classmethod
    def _ingest_password_rules(cls, value: str | None) -> str | None:
        return None if value is None else check_ingest_password(value, "INGEST_PASSWORD")

    @field_validator("public_base_url", "gemini_base_url", "openai_base_url", "turbotext_base_url", "s3_endpoint_url")
    @classmethod
    def _url_rules(cls, value: str | None) -> str | None:
        return check_http_url(value.strip()) if value and value.strip() else None

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _forwarded_rules(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            if item == "*":
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8, *)") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level_rules(cls, value: str) -> str:
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, not {value[:40]!r}")
        return value.strip().upper()

    @field_validator("database_url")
    @classmethod
    def _database_url_rules(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("is not a database URL (e.g. postgresql+asyncpg://user:pass@host/db)") from None
        if url.drivername not in DATABASE_DRIVERS:
            raise ValueError(f"must use one of the drivers {', '.join(DATABASE_DRIVERS)}, not {url.drivername!r}")
        return value

    @field_validator("media_url")
    @classmethod
    def _media_url_rules(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith("s3://") or len(value) <= len("s3://") or value[5] == "/":
            raise ValueError("MEDIA_URL must look like s3://bucket or s3://bucket/prefix")
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _jwt_secret_rules(cls, value: str | None) -> str | None:
        if value is None:
            return None
        _refuse_placeholder(value, "JWT_SECRET")
        if len(value.encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(
                f"JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes (an HS256 key of 256 bits, RFC 7518 §3.2);"
                " generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key_rules(cls, value: str | None) -> str | None:
        if value is None:
            return None
        _refuse_placeholder(value, "SECRET_KEY")
        try:
            Fernet(value)
        except ValueError:
            raise ValueError(
                "SECRET_KEY must be a Fernet key (32 url-safe base64-encoded bytes); generate one with: "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from None
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``sqlite+aiosqlite:///DATA_DIR/photochanger.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'photochanger.db').resolve()}"

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database file of :attr:`resolved_database_url`, or None on another database."""
        url = make_url(self.resolved_database_url)
        return Path(url.database).resolve() if url.get_backend_name() == "sqlite" and url.database else None

    @cached_property
    def resolved_media_root(self) -> Path:
        """Absolute media folder (``MEDIA_ROOT`` or ``DATA_DIR/media``)."""
        return (self.media_root or self.data_dir / "media").resolve()

    @cached_property
    def resolved_jwt_secret(self) -> str:
        """``JWT_SECRET`` or the generated ``DATA_DIR/jwt.secret``."""
        return load_or_create(self.data_dir / "jwt.secret", self.jwt_secret)

    @cached_property
    def resolved_secret_key(self) -> str:
        """``SECRET_KEY`` or the generated ``DATA_DIR/secret.key`` (a Fernet key)."""
        return load_or_create(self.data_dir / "secret.key", self.secret_key, lambda: Fernet.generate_key().decode())

    def ensure_data_dir(self) -> None:
        """Create ``DATA_DIR`` if missing (owner only: it holds the SQLite file and the secrets) and
        prove it takes a file. Raises ``OSError``."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        probe = self.data_dir / ".write-probe"
        probe.write_bytes(b"ok")
        probe.unlink()

    @property
    def provider_max_answer_bytes(self) -> int:
        """``PROVIDER_MAX_ANSWER_MB`` in bytes."""
        return int(self.provider_max_answer_mb * 1024 * 1024)

    @property
    def max_upload_bytes(self) -> int:
        """Default ingest upload limit in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)
