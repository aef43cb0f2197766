"""The objects one server process shares between requests."""

from dataclasses import dataclass, field

from photochanger.clock import SYSTEM_CLOCK, Clock
from photochanger.config import Config
from photochanger.db import Database
from photochanger.gallery.service import ListingCache
from photochanger.jobs.service import UnwrittenEnds
from photochanger.providers.base import Provider
from photochanger.providers.registry import build_providers
from photochanger.results.service import QrCodes
from photochanger.routing.admission import Admission, DatabasePermitStore, MemoryPermitStore
from photochanger.routing.breaker import BreakerPolicy
from photochanger.routing.health import DatabaseStateStore, KeyRing, RouteHealth
from photochanger.routing.latency import LatencyBook
from photochanger.slots.service import TemplateCache
from photochanger.storage import MediaStore, open_store
from photochanger.throttle import PasswordGuard, RefusalLog, SlidingWindow, UploadGate
from photochanger.workers import WorkerPool, cpu_workers

PASSWORD_WINDOW_SECONDS = 300  # wrong ingest passwords are counted over 5 minutes
UNAUTHENTICATED_GRACE_SECONDS = 5.0  # an upload before its password may be slower than the minimum rate this long
LOGIN_WINDOW_SECONDS = 900  # failed logins are counted over 15 minutes
LOGIN_PAIR_FAILURES = 10  # per (username, IP) within the window
LOGIN_IP_FAILURES = 30  # per IP, any username: a flood of random usernames
GALLERY_REQUESTS_PER_MINUTE = 30  # per client IP on the public gallery
PIN_FAILURES_PER_HOUR = 30  # wrong PINs for one share from every address together, then it locks for the hour
IMAGE_QUEUE = 256  # image jobs waiting for a worker thread; more are refused (503 server_busy)


@dataclass
class AppContext:
    """Configuration, database, media store, providers, admission to the in-flight limits, route
    health (circuits in the database), latency history, key ring, the bounded pool of threads for
    image work (decode, encode, face detection: one per CPU), the in-memory throttles of clients
    without credentials (:mod:`photochanger.throttle`: wrong ingest passwords, uploads not yet
    authenticated, refused booth requests, failed logins, gallery requests and PINs), the job ends
    the database refused (written when it is back), the caches (the public gallery's listing,
    template files' bytes, QR codes), and the clock they all read."""

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
    login_pairs: SlidingWindow
    login_ips: SlidingWindow
    gallery_requests: SlidingWindow
    pin_failures: SlidingWindow
    gallery_listing: ListingCache
    qr_codes: QrCodes
    unwritten_ends: UnwrittenEnds = field(default_factory=UnwrittenEnds)
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
            login_pairs=SlidingWindow(clock, LOGIN_PAIR_FAILURES, LOGIN_WINDOW_SECONDS),
            login_ips=SlidingWindow(clock, LOGIN_IP_FAILURES, LOGIN_WINDOW_SECONDS),
            gallery_requests=SlidingWindow(clock, GALLERY_REQUESTS_PER_MINUTE, 60),
            pin_failures=SlidingWindow(clock, PIN_FAILURES_PER_HOUR, 3600),
            gallery_listing=ListingCache(clock),
            qr_codes=QrCodes(images),
            clock=clock,
        )
