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
    )
    assert ok.returncode == 0, ok.stderr
    shown = json.loads(service.cli("slot", "show", "slot-009").stdout)
    assert shown["provider"] == "gemini" and shown["settings"] == {"aspect_ratio": "3:4"}
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
    }
    too_short = service.cli("settings", "set", "sync_response_seconds", "5")
    assert too_short.returncode == 2 and "greater than or equal to 10" in too_short.stderr
    assert service.cli("settings", "set", "colour", "red").returncode == 2
    ok = service.cli("settings", "set", "result_ttl_hours", "24")
    assert ok.returncode == 0 and "result_ttl_hours = 24" in ok.stdout
    assert service.cli("settings", "set", "result_ttl_hours", "168").returncode == 0
    assert service.cli("settings", "set", "alert_webhook_url", "ftp://x").returncode == 2


def test_template_add_rejects_non_images(service, tmp_path):
    text = tmp_path / "frame.png"
    text.write_text("not an image")
    bad = service.cli("slot", "template", "add", "slot-010", str(text))
    assert bad.returncode == 2 and "not a JPEG, PNG or WebP" in bad.stderr


def test_serve_warns_when_links_would_point_at_a_loopback_address(fake_gemini, tmp_path):
    from tests.conftest import Service

    server = Service(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", tmp_path, fake_gemini, name="loopback")
    del server.env["PHOTOCHANGER_PUBLIC_BASE_URL"]
    server.start()
    server.stop()
    started = server.log_path.read_text()
    assert "Admin UI:        http://127.0.0.1:" in started
    assert "set PHOTOCHANGER_PUBLIC_BASE_URL" in started  # guests' phones cannot open 127.0.0.1
