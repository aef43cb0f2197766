"""The operator CLI against the service's database."""

import json


def test_slot_set_validates_before_saving(service):
    bad = service.cli("slot", "set", "slot-009", "--provider", "gemini")
    assert bad.returncode == 2 and "needs a prompt" in bad.stderr
    unknown = service.cli("slot", "set", "slot-009", "--setting", "colour=red")
    assert unknown.returncode == 2 and "colour: unknown setting" in unknown.stderr
    wrong_look = service.cli("slot", "set", "slot-009", "--setting", "look=neon")
    assert wrong_look.returncode == 2 and "look" in wrong_look.stderr
    ok = service.cli(
        "slot",
        "set",
        "slot-009",
        "--provider",
        "gemini",
        "--prompt",
        "Make it snow",
        "--setting",
        "aspect_ratio=3:4",
        "--active",
        "--upload-limit-mb",
        "5",
        "--on-failure",
        "original",
        "--late-minutes",
        "10",
        "--spend-cap",
        "3.5",
    )
    assert ok.returncode == 0, ok.stderr
    shown = json.loads(service.cli("slot", "show", "slot-009").stdout)
    assert shown["provider"] == "gemini" and shown["settings"] == {"aspect_ratio": "3:4"}
    assert (shown["on_failure"], shown["late_delivery_minutes"], shown["daily_spend_cap_usd"]) == ("original", 10, 3.5)
    too_late = service.cli("slot", "set", "slot-009", "--late-minutes", "61")
    assert too_late.returncode == 2 and "late_delivery_minutes" in too_late.stderr
    assert shown["is_active"] is True and shown["upload_limit_bytes"] == 5 * 1024 * 1024
    assert "slot-009  active    gemini" in service.cli("slot", "list").stdout
    assert service.cli("slot", "show", "slot-099").returncode == 2


def test_settings_show_and_set_with_ranges(service):
    shown = json.loads(service.cli("settings", "show").stdout)
    assert set(shown) == {
        "ingest_password",
        "sync_response_seconds",
        "result_ttl_hours",
        "slot_max_in_flight",
        "provider_max_in_flight",
        "alert_webhook_url",
        "photo_webhook_url",
        "webhook_secret",
        "daily_spend_cap_usd",
        "spend_warning_percent",
        "model_prices",
    }
    assert len(shown["webhook_secret"]) >= 32  # generated at the first start
    too_short = service.cli("settings", "set", "sync_response_seconds", "5")
    assert too_short.returncode == 2 and "greater than or equal to 10" in too_short.stderr
    assert too_short.stderr.strip().startswith("sync_response_seconds: ") and "\n" not in too_short.stderr.strip()
    assert service.cli("settings", "set", "colour", "red").returncode == 2
    ok = service.cli("settings", "set", "result_ttl_hours", "24")
    assert ok.returncode == 0 and "result_ttl_hours = 24" in ok.stdout
    assert service.cli("settings", "set", "result_ttl_hours", "168").returncode == 0
    assert service.cli("settings", "set", "alert_webhook_url", "ftp://x").returncode == 2
    assert service.cli("settings", "set", "photo_webhook_url", "ftp://x").returncode == 2
    assert service.cli("settings", "set", "daily_spend_cap_usd", "-1").returncode == 2
    assert service.cli("settings", "set", "spend_warning_percent", "101").returncode == 2
    prices = service.cli("settings", "set", "model_prices", '{"gemini-2.5-flash-image": [0.3, 0.3, 45]}')
    assert prices.returncode == 0, prices.stderr
    assert json.loads(service.cli("settings", "show").stdout)["model_prices"] == {
        "gemini-2.5-flash-image": [0.3, 0.3, 45]
    }
    assert service.cli("settings", "set", "model_prices", "{not json").returncode == 2
    assert service.cli("settings", "set", "model_prices", '{"m": [1, 2]}').returncode == 2
    assert service.cli("settings", "set", "model_prices", "").returncode == 0
    assert json.loads(service.cli("settings", "show").stdout)["model_prices"] is None
    short = service.cli("settings", "set", "webhook_secret", "short")
    assert short.returncode == 2 and "webhook_secret" in short.stderr


def test_template_add_rejects_non_images(service, tmp_path):
    text = tmp_path / "frame.png"
    text.write_text("not an image")
    bad = service.cli("slot", "template", "add", "slot-010", str(text))
    assert bad.returncode == 2 and "not a JPEG, PNG or WebP" in bad.stderr


def test_every_command_finds_the_servers_data_folder_from_any_directory(fake_gemini, tmp_path):
    from tests.conftest import INGEST_PASSWORD, Service

    home = tmp_path / "xdg"  # the per-user data folder of this test: $XDG_DATA_HOME/photochanger
    server = Service(f"sqlite+aiosqlite:///{home / 'photochanger' / 'photochanger.db'}", tmp_path, fake_gemini)
    for name in ("PHOTOCHANGER_DATA_DIR", "PHOTOCHANGER_DATABASE_URL", "PHOTOCHANGER_PUBLIC_BASE_URL"):
        del server.env[name]
    server.env["XDG_DATA_HOME"] = str(home)
    server.start()
    try:
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        shown = server.cli_process("settings", "show", cwd=elsewhere)
        assert shown.returncode == 0 and INGEST_PASSWORD in shown.stdout, shown.stderr
        info = server.cli_process("info", "--host", "0.0.0.0", cwd=elsewhere)
        assert f"Data folder:     {home / 'photochanger'}" in info.stdout and "(exists)" in info.stdout
        assert "Public base URL: not set" in info.stdout
        assert not list(elsewhere.iterdir())  # no ./var, no new database where the command ran
    finally:
        server.stop()
    started = server.log_path.read_text()
    assert "Admin UI:        http://127.0.0.1:" in started
    assert "set PHOTOCHANGER_PUBLIC_BASE_URL" in started  # guests' phones cannot open 127.0.0.1
    assert all(json.loads(line)["event"] for line in started.splitlines() if line)  # one JSON object per line


def test_a_command_never_creates_a_database_and_says_where_it_looked(tmp_path):
    from typer.testing import CliRunner

    from photochanger.cli import app

    folder = tmp_path / "not-the-servers"
    env = {"PHOTOCHANGER_DATA_DIR": str(folder), "PHOTOCHANGER_DATABASE_URL": None}
    for command in (["settings", "show"], ["admin", "list"], ["slot", "list"]):
        result = CliRunner().invoke(app, command, env=env)
        assert result.exit_code == 2 and f"no database at {folder / 'photochanger.db'}" in result.stderr, command
    assert not folder.exists()  # nothing was created


def test_help_loads_no_web_database_or_provider_stack():
    from bench.cli_start import heavy_imports

    assert heavy_imports() == []  # each command imports what it uses (bench.cli_start times it: ~0.25 s)


async def test_an_event_from_the_cli_created_started_exported_and_ended(svc, tmp_path):
    import io
    import zipfile

    await svc.slot("slot-010", "local")
    made = svc.cli("event", "create", "Юбилей", "--slots", "slot-010", "--client", "ООО Ромашка",
                   "--colour", "#112233", "--start")  # fmt: skip
    assert made.returncode == 0, made.stderr
    event = json.loads(made.stdout)
    try:
        assert event["state"] == "live" and event["slot_ids"] == ["slot-010"] and event["colour"] == "#112233"
        clash = svc.cli("event", "create", "Other", "--slots", "slot-010,slot-011", "--start")
        assert clash.returncode == 2 and "event_overlap" in clash.stderr
        assert svc.cli("event", "create", "Bad", "--slots", "slot-099").returncode == 2
        job = svc.post("slot-010").headers["x-job-id"]
        changed = json.loads(svc.cli("event", "set", "Юбилей", "--title", "С юбилеем!", "--cap", "2.5").stdout)
        assert changed["title"] == "С юбилеем!" and changed["spend_cap_usd"] == 2.5
        target = tmp_path / "export.zip"
        exported = svc.cli("export", event["id"], str(target), "--originals")
        assert exported.returncode == 0, exported.stderr
        archive = zipfile.ZipFile(io.BytesIO(target.read_bytes()))
        assert len([n for n in archive.namelist() if n.startswith(("results/", "originals/"))]) == 2
        assert job in archive.read("photos.csv").decode("utf-8-sig")
        assert not list(tmp_path.glob(".*.partial"))
        assert [e["name"] for e in json.loads(svc.cli("event", "list").stdout)].count("Юбилей") == 1
        assert json.loads(svc.cli("event", "end", event["id"]).stdout)["state"] == "ended"
        assert svc.cli("export", "no-such-event", str(tmp_path / "x.zip")).returncode == 2
    finally:
        svc.api.post(f"/api/events/{event['id']}/end")
        svc.api.delete(f"/api/events/{event['id']}")
