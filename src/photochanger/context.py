"""The objects one server process shares between requests."""

from dataclasses import dataclass, field

from photochanger.auth import service as auth
from photochanger.clock import SYSTEM_CLOCK, Clock
from photochanger.config import Config
from photochanger.db import Database
from photochanger.gallery import service as gallery
from photochanger.gallery.service import ListingCache
from photochanger.jobs.service import Continuations, UnwrittenEnds
from photochanger.providers.base import Provider
from photochanger.providers.registry import build_providers
from photochanger.results.service import QrCodes
from photochanger.routing.admission import Admission, DatabasePermitStore, MemoryPermitStore
from photochanger.routing.breaker import BreakerPolicy
from photochanger.routing.health import DatabaseStateStore, KeyRing, RouteHealth
from photochanger.routing.latency import LatencyBook
from photochanger.slots.service import TemplateCache
from photochanger.storage import MediaStore, open_store
from photochanger.throttle.service import DatabaseWindow, PasswordGuard, RefusalLog, SlidingWindow, Throttle, UploadGate
from photochanger.workers import WorkerPool, cpu_workers

PASSWORD_WINDOW_SECONDS = 300  # wrong ingest passwords are counted over 5 minutes
UNAUTHENTICATED_GRACE_SECONDS = 5.0  # an upload before its password may be slower than the minimum rate this long
IMAGE_QUEUE = 256  # image jobs waiting for a worker thread; more are refused (503 server_busy)


@dataclass
class AppContext:
    """Configuration, database, media store, providers, admission to the in-flight limits, route
    health (circuits in the database), latency history, key ring, the bounded pool of threads for
    image work (decode, encode, face detection: one per CPU), the throttles of clients without
    credentials (:mod:`photochanger.throttle`: wrong ingest passwords, uploads not yet
    authenticated and refused booth requests in memory; failed logins, gallery requests and PINs
    in :class:`~photochanger.throttle.service.Throttle` windows), the job ends the database refused
    (written when it is back), the late jobs it runs after their booth's deadline, the caches
    (the public gallery's listing, template files' bytes, QR codes), and the clock they all read."""

    config: Config
    db: Database
    store: MediaStore
    providers: dict[str, Provider]
    admission: Admission
    health: RouteHealth
    latency: LatencyBook
    keyring: KeyRing
    images: WorkerPool
    password_failures: PasswordGuard
    unauthenticated_uploads: UploadGate
    refusals: RefusalLog
    login_throttle: auth.LoginThrottle
    password_hashing: auth.PasswordHashing  # argon2 for logins, never on the event loop
    gallery_requests: Throttle
    pin_failures: Throttle
    gallery_listing: ListingCache
    qr_codes: QrCodes
    unwritten_ends: UnwrittenEnds = field(default_factory=UnwrittenEnds)
    continuations: Continuations = field(default_factory=Continuations)
    background: set = field(default_factory=set)  # fire-and-forget tasks (alerts), held until they end
    templates: TemplateCache = field(default_factory=TemplateCache)
    clock: Clock = field(default=SYSTEM_CLOCK)

    @classmethod
    def create(cls, config: Config, clock: Clock = SYSTEM_CLOCK) -> "AppContext":
        """Build everything from ``config`` (no I/O until used)."""
        db = Database(config.resolved_database_url)
        # PostgreSQL: places are leased rows shared by every process. SQLite serves one process:
        # counting in memory spares two write transactions (each an fsync) per photo.
        permits = DatabasePermitStore(db) if db.engine.dialect.name == "postgresql" else MemoryPermitStore()
        policy = BreakerPolicy(config.route_failure_threshold, config.route_probe_interval_seconds)
        images = WorkerPool("images", cpu_workers(), IMAGE_QUEUE)

        def window(scope: str, limit: int, seconds: float) -> Throttle:
            """A throttle window: rows every process shares on PostgreSQL, memory on SQLite (one
            process), so a flood writes nothing to the one-writer database the booths need."""
            if db.engine.dialect.name == "postgresql":
                return DatabaseWindow(db, clock, scope, limit, seconds)
            return SlidingWindow(clock, limit, seconds)

        return cls(
            config=config,
            db=db,
            store=open_store(config),
            providers=build_providers(config, images),
            admission=Admission(permits, clock),
            health=RouteHealth(DatabaseStateStore(db), policy, clock),
            latency=LatencyBook(db, clock),
            keyring=KeyRing(clock, config.key_aside_seconds),
            images=images,
            password_failures=PasswordGuard(clock, config.ingest_password_failures, PASSWORD_WINDOW_SECONDS),
            unauthenticated_uploads=UploadGate(
                clock,
                config.max_unauthenticated_uploads,
                UNAUTHENTICATED_GRACE_SECONDS,
                config.unauthenticated_min_bytes_per_second,
                config.unauthenticated_upload_seconds,
            ),
            refusals=RefusalLog(clock),
            login_throttle=auth.LoginThrottle(
                pairs=window("login_pair", auth.MAX_FAILURES, auth.BLOCK.total_seconds()),
                ips=window("login_ip", auth.MAX_IP_FAILURES, auth.BLOCK.total_seconds()),
            ),
            password_hashing=auth.password_hashing(config.password_hash_cost),
            gallery_requests=window("gallery_ip", gallery.REQUESTS_PER_MINUTE, 60),
            pin_failures=window("gallery_pin", gallery.PIN_FAILURES_PER_HOUR, 3600),
            gallery_listing=ListingCache(clock),
            qr_codes=QrCodes(images),
            clock=clock,
        )

    def shared_windows(self) -> list[DatabaseWindow]:
        """The throttle windows kept in the database (PostgreSQL), for the maintenance loop to prune."""
        windows = [self.login_throttle.pairs, self.login_throttle.ips, self.gallery_requests, self.pin_failures]
        return [window for window in windows if isinstance(window, DatabaseWindow)]
