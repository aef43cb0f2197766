"""The objects one server process shares between requests."""

from dataclasses import dataclass

from photochanger.config import Config
from photochanger.db import Database
from photochanger.ingest.limits import InFlightLimiter
from photochanger.media.storage import MediaStore
from photochanger.providers.base import Provider
from photochanger.providers.health import KeyRing, RouteHealth
from photochanger.providers.registry import build_providers


@dataclass
class AppContext:
    """Configuration, database, media store, providers, in-flight limiter, route health, key ring."""

    config: Config
    db: Database
    store: MediaStore
    providers: dict[str, Provider]
    limiter: InFlightLimiter
    health: RouteHealth
    keyring: KeyRing

    @classmethod
    def create(cls, config: Config) -> "AppContext":
        """Build everything from ``config`` (no I/O until used)."""
        return cls(
            config=config,
            db=Database(config.resolved_database_url),
            store=MediaStore(config.resolved_media_root),
            providers=build_providers(config),
            limiter=InFlightLimiter(),
            health=RouteHealth(config.route_failure_threshold, config.route_cooldown_seconds),
            keyring=KeyRing(config.key_aside_seconds),
        )
