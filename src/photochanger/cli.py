"""The ``photochanger`` command: serve, migrate, slot, settings, cleanup."""

import asyncio
import contextlib
import importlib.util
import ipaddress
import json
import os
import shutil
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

if TYPE_CHECKING:  # each command imports what it uses: `photochanger --help` loads no web or database stack
    from filelock import FileLock
    from pydantic import ValidationError

    from photochanger.config import Config
    from photochanger.context import AppContext

FIRST_START_FILE = "first-start-credentials.txt"  # in DATA_DIR, 0600

app = typer.Typer(
    help="PhotoChanger: photobooth gateway to generative image AI.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rendering it with rich costs ~0.2 s of imports per call
)
PLAIN = {"no_args_is_help": True, "rich_markup_mode": None}
slot_app = typer.Typer(help="Show and configure the 15 slots.", **PLAIN)
template_app = typer.Typer(help="Template images of a slot.", **PLAIN)
settings_app = typer.Typer(help="Run-time settings stored in the database.", **PLAIN)
admin_app = typer.Typer(help="Admin accounts of the web UI and API.", **PLAIN)
event_app = typer.Typer(help="Events: tonight's client, its slots, times, look, cap and webhook.", **PLAIN)
app.add_typer(admin_app, name="admin")
app.add_typer(event_app, name="event")
app.add_typer(slot_app, name="slot")
slot_app.add_typer(template_app, name="template")
app.add_typer(settings_app, name="settings")

T = TypeVar("T")


def _run(work: "Callable[[AppContext], Awaitable[T]]") -> T:
    """Migrate, then run ``work`` with a fresh context; closes the database afterwards. Never
    creates a SQLite database: exits 2 saying where it looked when there is none."""
    from photochanger.context import AppContext
    from photochanger.migrations import upgrade
    from photochanger.settings import service as settings_service

    config = _config()
    _existing_database(config)
    _usable_data_dir(config)
    _connectable(config)
    upgrade(config.resolved_database_url)

    async def main() -> T:
        ctx = AppContext.create(config)
        try:
            await ctx.store.ensure()
            await settings_service.seed(ctx.db, config)
            return await work(ctx)
        finally:
            await ctx.db.dispose()

    return asyncio.run(main())


def _config() -> "Config":
    """The environment's configuration, or exit 2 with each refused value named."""
    from pydantic import ValidationError

    from photochanger.config import Config

    try:
        return Config()
    except ValidationError as exc:
        problems = "; ".join(
            f"PHOTOCHANGER_{'_'.join(map(str, e['loc'])).upper()}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        _fail(f"invalid configuration: {problems}")
        raise


def _existing_database(config: "Config") -> None:
    """On SQLite, the database file exists, or exit 2 naming where it looked: a command other than
    ``serve`` and ``migrate`` run with another data folder than the server's would otherwise make a
    new, empty database (and show another ingest password)."""
    file = config.sqlite_file
    if file is not None and not file.exists():
        _fail(
            f"no database at {file}: no server has run with the data folder {config.data_dir.resolve()}. "
            "Set PHOTOCHANGER_DATA_DIR (or PHOTOCHANGER_DATABASE_URL) to the server's "
            "(`photochanger info` on the server's machine and account shows it), or run `photochanger serve` once."
        )


def _lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (the ones a booth PC on the LAN can use),
    from the host name and the route to a documentation address (no packet is sent)."""
    found: set[str] = set()
    try:
        found.update(str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET))
    except OSError:
        pass
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): picks the outgoing interface, sends nothing
        found.add(probe.getsockname()[0])
    return sorted(a for a in found if not ipaddress.ip_address(a).is_loopback and not a.startswith("169.254."))


def _booth_bases(config: "Config", host: str, port: int) -> list[str]:
    """The base URLs booths can post to: ``PUBLIC_BASE_URL`` when set, else this host (every LAN
    address when listening on all interfaces)."""
    if config.public_base_url:
        return [config.public_base_url.rstrip("/")]
    if host in ("0.0.0.0", "::"):
        return [f"http://{address}:{port}" for address in _lan_addresses()] or [f"http://127.0.0.1:{port}"]
    return [f"http://{host}:{port}"]


def _usable_data_dir(config: "Config") -> None:
    """``DATA_DIR`` created and writable, or exit 2 naming it."""
    try:
        config.ensure_data_dir()
    except OSError as exc:
        _fail(f"PHOTOCHANGER_DATA_DIR: {config.data_dir} cannot be used: {os.strerror(exc.errno or 5)}")


CONNECT_TIMEOUT_SECONDS = 10


def _connectable(config: "Config") -> None:
    """The database answers ``SELECT 1`` within :data:`CONNECT_TIMEOUT_SECONDS`, or exit 2 naming
    ``PHOTOCHANGER_DATABASE_URL`` (or ``DATA_DIR`` for the default SQLite file) with the reason."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from photochanger.db import Database

    async def probe() -> None:
        db = Database(config.resolved_database_url)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS), db.transaction() as session:
                await session.execute(text("SELECT 1"))
        finally:
            await db.dispose()

    try:
        asyncio.run(probe())
    except (DBAPIError, TimeoutError, OSError) as exc:
        cause = getattr(exc, "orig", None) or exc
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        name = "PHOTOCHANGER_DATABASE_URL" if config.database_url else "PHOTOCHANGER_DATA_DIR"
        _fail(f"{name}: cannot connect to the database: {reason[:300]}")


def _one_line(exc: "ValidationError") -> str:
    """A pydantic validation error as one readable line: ``field: message; …``."""
    return "; ".join(
        ".".join(map(str, e["loc"])) + ": " + e["msg"].removeprefix("Value error, ") if e["loc"] else e["msg"]
        for e in exc.errors()
    )


def _fail(message: str) -> NoReturn:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _print(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for the booth's LAN).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes on this port (PostgreSQL only; /metrics sums them).")
    ] = 1,
) -> None:
    """Migrate the database, seed settings, print the ingest URL and run the server."""
    from photochanger.auth import service as auth
    from photochanger.context import AppContext
    from photochanger.migrations import MigrationFailed, upgrade_in_child
    from photochanger.settings import service as settings_service
    from photochanger.urls import ingest_url

    config = _config()
    if workers > 1 and not config.resolved_database_url.startswith("postgresql"):
        _fail("--workers needs PostgreSQL: on SQLite in-flight places are counted in one process's memory")
    _usable_data_dir(config)
    server_lock = _one_server_per_sqlite_file(config)  # held until this process exits
    _connectable(config)
    try:
        upgrade_in_child(config.resolved_database_url)  # the server itself never loads Alembic
    except MigrationFailed as exc:
        _fail(f"PHOTOCHANGER_DATABASE_URL: the database could not be migrated: {exc}")

    async def prepare() -> tuple[str | None, tuple[str, str] | None]:
        ctx = AppContext.create(config)
        try:
            return await settings_service.seed(ctx.db, config), await auth.ensure_first_admin(
                ctx.db, auth.PASSWORD_HASHERS[config.password_hash_cost]
            )
        finally:
            await ctx.db.dispose()

    generated, first_admin = asyncio.run(prepare())
    _note_old_data_folder(config)
    bases = _booth_bases(config, host, port)
    base = bases[0]
    for each in bases:
        _say(f"Ingest URL:      {ingest_url(each, 'slot-001')}   (slots slot-001 … slot-015)")
    _say(f"Admin UI:        {base}/ui/")
    shown_host = base.split("//", 1)[1].rsplit(":", 1)[0]
    if not config.public_base_url and (shown_host.startswith("127.") or shown_host in ("localhost", "[::1]")):
        _say(
            "Note: guests' phones cannot open links or QR codes on this loopback address; set "
            "PHOTOCHANGER_PUBLIC_BASE_URL to the address guests reach (e.g. https://booth.example.com)."
        )
    secrets_shown = []
    if generated:
        secrets_shown.append(f"Ingest password: {generated}   (see `photochanger settings show`)")
    if first_admin:
        secrets_shown.append(f"Admin login:     {first_admin[0]} / {first_admin[1]}")
    if secrets_shown:
        path = _write_private(config.data_dir / FIRST_START_FILE, "\n".join(secrets_shown) + "\n")
        if sys.stdout.isatty():  # a terminal: show them; a service's stdout is a permanent log
            for line in secrets_shown:
                _say(line)
        _say(f"First-start credentials: written to {path} (mode 0600); delete it once noted")
    if not generated:
        _say("Ingest password: run `photochanger settings show` to see it")
    if workers > 1:  # each worker builds the app from the same environment; metrics summed via files
        metrics_dir = config.data_dir.resolve() / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    import uvicorn  # the web stack is loaded to serve, not for every other command (~1 s of start-up)

    from photochanger.app import create_app

    uvicorn.run(
        create_app(config) if workers == 1 else "photochanger.app:create_app",
        factory=workers > 1,
        workers=workers,
        host=host,
        port=port,
        log_config=None,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",  # uvloop has no Windows build
        http="photochanger.http_server:GuardedHttpToolsProtocol",  # httptools + header timeout, size, cap
        proxy_headers=bool(config.forwarded_allow_ips),  # default: X-Forwarded-For trusted from no one
        forwarded_allow_ips=config.forwarded_allow_ips or None,
    )
    if server_lock is not None:
        server_lock.release()


def _say(line: str) -> None:
    """One line of the start banner: as text on a terminal; as a JSON log line otherwise (a
    service's stdout is its log: one JSON object per line, like everything else in it)."""
    if sys.stdout.isatty():
        typer.echo(line)
    else:
        from photochanger.clock import wall_now

        stamp = wall_now().isoformat().replace("+00:00", "Z")
        typer.echo(json.dumps({"event": "serve.banner", "message": line, "level": "info", "timestamp": stamp}))


def _note_old_data_folder(config: "Config") -> None:
    """Say so when ``./var`` holds a database of an earlier version (whose default data folder was
    ``./var`` in the working directory) and the data folder in use is another one."""
    old = Path("var") / "photochanger.db"
    if "PHOTOCHANGER_DATA_DIR" not in os.environ and old.exists() and config.sqlite_file != old.resolve():
        _say(
            f"Note: {old.resolve()} holds the database of an earlier version (data folder ./var); this server "
            f"uses {config.data_dir.resolve()}. To keep the old data: PHOTOCHANGER_DATA_DIR={old.parent.resolve()}"
        )


@app.command()
def info(
    host: Annotated[str, typer.Option(help="The interface `serve` listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port `serve` listens on.")] = 8000,
) -> None:
    """Where this installation keeps its data and how booths and guests reach it; changes nothing."""
    from sqlalchemy import make_url

    from photochanger.urls import ingest_url

    config = _config()
    file = config.sqlite_file
    database = make_url(config.resolved_database_url).render_as_string(hide_password=True)
    state = (
        "" if file is None else ("   (exists)" if file.exists() else "   (none yet: `photochanger serve` creates it)")
    )
    typer.echo(f"Data folder:     {config.data_dir.resolve()}")
    typer.echo(f"Database:        {database}{state}")
    typer.echo(f"Media:           {config.media_url or config.resolved_media_root}")
    for base in _booth_bases(config, host, port):
        typer.echo(f"Ingest URL:      {ingest_url(base, 'slot-001')}   (slots slot-001 … slot-015)")
    typer.echo(f"LAN addresses:   {', '.join(_lan_addresses()) or 'none found'}   (serve --host 0.0.0.0 to use them)")
    unset = "not set: take-home links and QR codes need the address guests reach (PHOTOCHANGER_PUBLIC_BASE_URL)"
    typer.echo(f"Public base URL: {config.public_base_url or unset}")


def _one_server_per_sqlite_file(config: "Config") -> "FileLock | None":
    """On SQLite, the exclusive lock ``<database file>.lock`` (an OS lock: released when the
    process ends, however it ends); exit 2 when another server holds it. A second server on the
    same file would count in-flight places in its own memory (a slot limited to 1 would run two
    photos) and race the first one's writes, as ``--workers 2`` would."""
    from filelock import FileLock, Timeout
    from sqlalchemy import make_url

    url = make_url(config.resolved_database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    lock = FileLock(f"{Path(url.database).resolve()}.lock", timeout=0, mode=0o600)
    try:
        lock.acquire()
    except Timeout:
        _fail(f"another photochanger server already serves {url.database} (its lock {lock.lock_file} is held)")
    except OSError as exc:
        _fail(f"PHOTOCHANGER_DATA_DIR: cannot lock {lock.lock_file}: {os.strerror(exc.errno or 5)}")
    return lock


def _write_private(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` readable by the owner only (0600), replacing an older file."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return path.resolve()


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic)."""
    from photochanger.migrations import upgrade

    config = _config()
    _usable_data_dir(config)
    _connectable(config)
    upgrade(config.resolved_database_url)
    typer.echo("database is up to date")


@slot_app.command("list")
def slot_list() -> None:
    """One line per slot: id, active, provider, name."""
    from photochanger.slots import service as slots

    for slot in _run(lambda ctx: slots.list_slots(ctx.db)):
        state = "active  " if slot.is_active else "inactive"
        typer.echo(f"{slot.id}  {state}  {slot.provider:<8}  {slot.display_name}")


@slot_app.command("show")
def slot_show(slot_id: str) -> None:
    """A slot's full configuration as JSON."""
    from photochanger.slots import service as slots

    try:
        _print(_run(lambda ctx: slots.get_slot(ctx.db, slot_id)).model_dump(mode="json"))
    except slots.SlotNotFound:
        _fail(f"no slot {slot_id!r}")


def _parse_setting(pair: str) -> tuple[str, object]:
    key, sep, raw = pair.partition("=")
    if not sep or not key:
        _fail(f"--setting takes key=value, got {pair!r}")
    try:
        value = json.loads(raw) if raw else None
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


@slot_app.command("set")
def slot_set(
    slot_id: str,
    provider: Annotated[str | None, typer.Option(help="local or gemini.")] = None,
    prompt: Annotated[str | None, typer.Option(help="Instruction for AI providers.")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive", help="Accept ingests or not.")] = None,
    setting: Annotated[
        list[str] | None, typer.Option(help="Provider setting key=value (JSON values allowed; key= removes).")
    ] = None,
    upload_limit_mb: Annotated[float | None, typer.Option(help="Upload limit of this slot in MB.")] = None,
    max_in_flight: Annotated[int | None, typer.Option(help="In-flight ingests allowed for this slot.")] = None,
    on_failure: Annotated[
        str | None, typer.Option(help="error (JSON error) or original (the photo) when every route failed.")
    ] = None,
    late_minutes: Annotated[
        int | None,
        typer.Option(help="Late delivery: minutes the AI photo may still come after the booth's deadline (0: off)."),
    ] = None,
    spend_cap: Annotated[
        float | None, typer.Option(help="This slot's own spend cap per UTC day, US dollars (negative: none).")
    ] = None,
) -> None:
    """Change a slot; settings are validated for the provider before anything is saved."""
    from pydantic import ValidationError

    from photochanger.providers.registry import InvalidSettings
    from photochanger.slots import service as slots
    from photochanger.slots.schemas import SlotUpdate

    async def work(ctx: "AppContext") -> dict:
        current = await slots.get_slot(ctx.db, slot_id)
        change: dict = {}
        if provider is not None:
            change["provider"] = provider
        for key, value in [
            ("prompt", prompt),
            ("display_name", name),
            ("is_active", active),
            ("max_in_flight", max_in_flight),
            ("on_failure", on_failure),
            ("late_delivery_minutes", late_minutes),
        ]:
            if value is not None:
                change[key] = value
        if upload_limit_mb is not None:
            change["upload_limit_bytes"] = int(upload_limit_mb * 1024 * 1024)
        if spend_cap is not None:
            change["daily_spend_cap_usd"] = None if spend_cap < 0 else spend_cap
        if setting:
            base = dict(current.settings) if (provider or current.provider) == current.provider else {}
            for key, value in map(_parse_setting, setting):
                base.pop(key, None) if value is None else base.__setitem__(key, value)
            change["settings"] = base
        updated = await slots.update_slot(
            ctx.db, slot_id, SlotUpdate.model_validate(change), public_base_url=ctx.config.public_base_url
        )
        return updated.model_dump(mode="json")

    try:
        _print(_run(work))
    except slots.SlotNotFound:
        _fail(f"no slot {slot_id!r}")
    except ValidationError as exc:
        _fail(_one_line(exc))
    except InvalidSettings as exc:
        _fail(str(exc))


@template_app.command("add")
def template_add(
    slot_id: str,
    path: Path,
    role: Annotated[str, typer.Option(help="template (overlay), background, style or face.")] = "template",
) -> None:
    """Attach an image file to a slot."""
    from photochanger.imaging import UnsupportedImage
    from photochanger.slots import service as slots

    try:
        data = path.read_bytes()
        _print(_run(lambda ctx: slots.add_template(ctx.db, ctx.store, slot_id, data, role)).model_dump(mode="json"))
    except (OSError, ValueError, UnsupportedImage) as exc:
        _fail(str(exc))
    except slots.SlotNotFound:
        _fail(f"no slot {slot_id!r}")


@template_app.command("remove")
def template_remove(slot_id: str, template_id: str) -> None:
    """Detach a template and delete its file."""
    from photochanger.slots import service as slots

    try:
        _run(lambda ctx: slots.remove_template(ctx.db, ctx.store, slot_id, template_id))
    except slots.SlotNotFound:
        _fail(f"no template {template_id!r} on {slot_id!r}")
    typer.echo("removed")


@settings_app.command("show")
def settings_show() -> None:
    """All run-time settings (including the ingest password, which operators copy into the booth)."""
    from photochanger.settings import service as settings_service

    _print(_run(lambda ctx: settings_service.load(ctx.db)).model_dump())


@settings_app.command("set")
def settings_set(key: str, value: str) -> None:
    """Change one setting, e.g. ``settings set sync_response_seconds 30``."""
    from pydantic import ValidationError

    from photochanger.settings import service as settings_service
    from photochanger.settings.schemas import SECRET_KEYS

    try:
        updated = _run(lambda ctx: settings_service.set_value(ctx.db, key, value))
    except ValidationError as exc:
        _fail(f"{key}: {_one_line(exc)}")
    except KeyError as exc:
        _fail(str(exc).strip("'\""))
    shown = "(changed)" if key in SECRET_KEYS else getattr(updated, key)
    typer.echo(f"{key} = {shown}")


def _event_view(event) -> dict:
    from photochanger.db import utcnow
    from photochanger.events import service as events
    from photochanger.events.schemas import EventView

    return (
        EventView.model_validate(event)
        .model_copy(update={"state": events.state(event, utcnow())})
        .model_dump(mode="json")
    )


def _event_call(work: "Callable[[AppContext], Awaitable[T]]") -> T:
    """Run an event command; a missing event or a refused change exits 2 with the reason."""
    from pydantic import ValidationError

    from photochanger.events import service as events

    try:
        return _run(work)
    except events.EventNotFound as exc:
        _fail(f"no event {exc.args[0]!r}")
    except events.InvalidEvent as exc:
        _fail(f"{exc.code}: {exc}")
    except ValidationError as exc:
        _fail(_one_line(exc))


EventSlots = Annotated[str | None, typer.Option("--slots", help="Comma-separated slot ids, e.g. slot-001,slot-002.")]
EventTime = Annotated[str | None, typer.Option(help="ISO 8601 with an offset, e.g. 2026-12-05T18:00+01:00.")]


def _event_change(**given):
    from photochanger.events.schemas import EventChange

    values = {k: v for k, v in given.items() if v is not None}
    if "slot_ids" in values:
        values["slot_ids"] = [s.strip() for s in values["slot_ids"].split(",") if s.strip()]
    for key in ("client", "title", "colour", "webhook_url", "ends_at"):
        if values.get(key) == "":
            values[key] = None  # "" clears it
    return EventChange.model_validate(values)


@event_app.command("list")
def event_list() -> None:
    """Every event with its state now, the latest start first."""
    from photochanger.events import service as events

    _print([_event_view(e) for e in _event_call(lambda ctx: events.list_events(ctx.db))])


@event_app.command("create")
def event_create(
    name: str,
    slots: EventSlots = None,
    client: Annotated[str | None, typer.Option(help="The client's name.")] = None,
    starts: EventTime = None,
    ends: EventTime = None,
    title: Annotated[str | None, typer.Option(help="Shown to guests (default: the name).")] = None,
    colour: Annotated[str | None, typer.Option(help="#rrggbb on the guests' pages.")] = None,
    cap: Annotated[float | None, typer.Option("--cap", help="Spend cap in US dollars.")] = None,
    webhook: Annotated[str | None, typer.Option(help="Its photo webhook URL.")] = None,
    start: Annotated[bool, typer.Option("--start", help="Start it now.")] = False,
) -> None:
    """Create an event (``--slots`` required), optionally starting it now."""
    from photochanger.events import service as events

    async def work(ctx: "AppContext"):
        change = _event_change(name=name, slot_ids=slots, client=client, starts_at=starts, ends_at=ends,
                               title=title, colour=colour, spend_cap_usd=cap, webhook_url=webhook)  # fmt: skip
        event = await events.create(ctx.db, change)
        return await events.start(ctx.db, event.id) if start else event

    _print(_event_view(_event_call(work)))


@event_app.command("set")
def event_set(
    event: Annotated[str, typer.Argument(help="The event's id or name.")],
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    slots: EventSlots = None,
    client: Annotated[str | None, typer.Option(help="'' clears it.")] = None,
    starts: EventTime = None,
    ends: Annotated[str | None, typer.Option(help="ISO 8601 with an offset; '' makes it open-ended.")] = None,
    title: Annotated[str | None, typer.Option(help="'' clears it.")] = None,
    colour: Annotated[str | None, typer.Option(help="#rrggbb; '' clears it.")] = None,
    cap: Annotated[float | None, typer.Option("--cap", help="Spend cap in US dollars (negative: none).")] = None,
    webhook: Annotated[str | None, typer.Option(help="'' clears it.")] = None,
) -> None:
    """Change some of an event's fields (photos already taken stay with it)."""
    from photochanger.events import service as events

    async def work(ctx: "AppContext"):
        found = await events.find(ctx.db, event)
        change = _event_change(name=name, slot_ids=slots, client=client, starts_at=starts, ends_at=ends,
                               title=title, colour=colour, spend_cap_usd=cap, webhook_url=webhook)  # fmt: skip
        if cap is not None and cap < 0:
            change = change.model_copy(update={"spend_cap_usd": None})
            change.model_fields_set.add("spend_cap_usd")
        return await events.update(ctx.db, found.id, change)

    _print(_event_view(_event_call(work)))


@event_app.command("start")
def event_start(event: Annotated[str, typer.Argument(help="The event's id or name.")]) -> None:
    """Make an event live now."""
    from photochanger.events import service as events

    async def work(ctx: "AppContext"):
        return await events.start(ctx.db, (await events.find(ctx.db, event)).id)

    _print(_event_view(_event_call(work)))


@event_app.command("end")
def event_end(event: Annotated[str, typer.Argument(help="The event's id or name.")]) -> None:
    """End an event now."""
    from photochanger.events import service as events

    async def work(ctx: "AppContext"):
        return await events.end(ctx.db, (await events.find(ctx.db, event)).id)

    _print(_event_view(_event_call(work)))


@app.command("export")
def export_event(
    event: Annotated[str, typer.Argument(help="The event's id or name.")],
    file: Annotated[Path, typer.Argument(help="The ZIP to write (replaced if it exists; never left half-written).")],
    originals: Annotated[bool, typer.Option("--originals", help="Also the originals as the booth sent them.")] = False,
) -> None:
    """Write an event's photos and photos.csv (UTF-8 with BOM) to a ZIP, while serving."""
    from photochanger.events import service as events
    from photochanger.export import service as export

    target = file.resolve()
    partial = target.with_name(f".{target.name}.partial")

    async def work(ctx: "AppContext") -> int:
        found = await events.find(ctx.db, event)
        base = (ctx.config.public_base_url or "http://localhost").rstrip("/")
        written = 0
        with partial.open("wb") as out:
            async for chunk in export.zip_stream(ctx.db, ctx.store, found.id, base, originals):
                await asyncio.to_thread(out.write, chunk)
                written += len(chunk)
            await asyncio.to_thread(os.fsync, out.fileno())
        partial.replace(target)
        return written

    try:
        written = _event_call(work)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        _fail(f"export failed: {exc}")
    finally:
        if partial.exists():
            partial.unlink()
    typer.echo(f"wrote {written} bytes to {target}")


@app.command()
def cleanup(dry_run: Annotated[bool, typer.Option("--dry-run", help="Only report what would go.")] = False) -> None:
    """Delete media past its TTL and abandoned temp files; mark the jobs purged."""
    from photochanger.media.service import purge_expired

    report = _run(lambda ctx: purge_expired(ctx.db, ctx.store, dry_run=dry_run))
    verb = "would remove" if dry_run else "removed"
    typer.echo(
        f"{verb} {report.files} files ({report.bytes} bytes) of {report.jobs} jobs, {report.temp_files} temp files"
    )


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="The archive to write (a tar file; replaced if it exists).")],
    originals: Annotated[bool, typer.Option("--originals/--no-originals", help="Include the booth originals.")] = True,
) -> None:
    """Back up the database, the secret files and the media into one archive, while serving."""
    from photochanger.backup import service as backups
    from photochanger.storage import open_store

    config = _config()
    _existing_database(config)
    _connectable(config)
    target = file.resolve()
    try:
        report = asyncio.run(backups.backup(config, open_store(config), target, originals))
    except (backups.BackupError, OSError) as exc:
        _fail(f"backup failed: {exc}")
    missing = f", {report.media_missing} deleted since" if report.media_missing else ""
    typer.echo(
        f"backed up the {report.database} database, {report.secrets} secret files and {report.media} media files "
        f"({report.media_bytes} bytes{missing}) to {report.path}"
    )


@app.command()
def restore(file: Annotated[Path, typer.Argument(help="An archive written by `photochanger backup`.")]) -> None:
    """Verify an archive, then put its database, secret files and media in place (stop the server first)."""
    from photochanger.backup import service as backups
    from photochanger.storage import open_store

    config = _config()
    try:
        backups.verify(file.resolve())  # a damaged archive changes nothing, not even the data folder
    except (backups.BackupError, OSError) as exc:
        _fail(f"restore failed: {exc}")
    _usable_data_dir(config)
    lock = _one_server_per_sqlite_file(config)  # exit 2 while a server runs on the SQLite file
    if config.sqlite_file is None:
        _connectable(config)
    try:
        report = asyncio.run(backups.restore(config, open_store(config), file.resolve()))
    except (backups.BackupError, OSError) as exc:
        _fail(f"restore failed: {exc}")
    finally:
        if lock is not None:
            lock.release()
    typer.echo(
        f"restored the {report.database} database, {report.secrets} secret files and {report.media} media files "
        f"({report.media_bytes} bytes) from {report.path}"
    )


PasswordOption = Annotated[str | None, typer.Option(help="Default: prompt, or generate if left empty.")]


def _set_account_password(
    username: str, password: str | None, action: "Callable[[AppContext, str], Awaitable[object]]", done: str
) -> None:
    """Run ``action(ctx, secret)`` with the given, prompted or generated password; print a generated one."""
    from photochanger.auth import service as auth

    chosen = (
        password
        if password is not None
        else typer.prompt("Password (empty: generate one)", default="", hide_input=True, show_default=False)
    )
    secret = chosen or auth.generate_password()
    try:
        _run(lambda ctx: action(ctx, secret))
    except auth.AccountError as exc:
        _fail(str(exc))
    typer.echo(done + ("" if chosen else f"; password: {secret}"))


@admin_app.command("create")
def admin_create(username: str, password: PasswordOption = None) -> None:
    """Create an admin account (a generated password is printed once)."""
    from photochanger.auth import service as auth

    _set_account_password(
        username,
        password,
        lambda ctx, secret: auth.create_admin(ctx.db, username, secret, ctx.password_hashing.hasher),
        f"created {username}",
    )


@admin_app.command("passwd")
def admin_passwd(username: str, password: PasswordOption = None) -> None:
    """Set a new password; the account's existing sessions end."""
    from photochanger.auth import service as auth

    _set_account_password(
        username,
        password,
        lambda ctx, secret: auth.set_password(ctx.db, username, secret, ctx.password_hashing.hasher),
        f"password of {username} changed",
    )


@admin_app.command("list")
def admin_list() -> None:
    """Accounts, one per line."""
    from photochanger.auth import service as auth

    for admin in _run(lambda ctx: auth.list_admins(ctx.db)):
        state = "active  " if admin.is_active else "disabled"
        typer.echo(f"{admin.username:<24} {state}  last login {admin.last_login_at or 'never'}")


@admin_app.command("disable")
def admin_disable(username: str) -> None:
    """Disable an account; its sessions stop working at once."""
    from photochanger.auth import service as auth

    try:
        _run(lambda ctx: auth.set_active(ctx.db, username, False))
    except auth.AccountError as exc:
        _fail(str(exc))
    typer.echo(f"{username} disabled")
