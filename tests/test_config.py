"""Supplied configuration is refused at start with a message naming the variable and the rule."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from photochanger.config import Config


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ingest_password", "abc", "4–128 characters"),
        ("ingest_password", "changethis", "placeholder"),
        ("jwt_secret", "thirteen-byte", "at least 32 bytes"),
        ("jwt_secret", "changeme", "placeholder"),
        ("secret_key", "changethis", "placeholder"),
        ("secret_key", "not-a-fernet-key", "Fernet key"),
    ],
)
def test_bad_values_are_refused(field, value, message):
    with pytest.raises(ValidationError) as refused:
        Config(**{field: value})
    assert message in str(refused.value)


def test_good_values_are_accepted():
    config = Config(ingest_password="booth-secret-4711", jwt_secret="x" * 32, secret_key=Fernet.generate_key().decode())
    assert config.resolved_jwt_secret == "x" * 32


def test_serve_refuses_to_start_with_a_clear_message(tmp_path):
    env = {**os.environ, "PHOTOCHANGER_DATA_DIR": str(tmp_path), "PHOTOCHANGER_SECRET_KEY": "changethis"}
    done = subprocess.run(
        [sys.executable, "-m", "photochanger", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "PHOTOCHANGER_SECRET_KEY" in done.stderr and "placeholder" in done.stderr


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("MAX_UPLOAD_MB", "inf", "finite"),
        ("MAX_UPLOAD_MB", "nan", "finite"),
        ("PUBLIC_BASE_URL", "booth.example.com", "http:// or https://"),
        ("PUBLIC_BASE_URL", "javascript:alert(1)", "http:// or https://"),
        ("FORWARDED_ALLOW_IPS", "10.0.0.1, not-an-ip", "not an IP address"),
        ("GEMINI_BASE_URL", "garbage", "http:// or https://"),
        ("OPENAI_BASE_URL", "ftp://example.com", "http:// or https://"),
        ("LOG_LEVEL", "LOUD", "one of DEBUG"),
        ("DATABASE_URL", "not a url", "not a database URL"),
        ("DATABASE_URL", "mysql://u@h/db", "drivers"),
        ("DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:9/none", "cannot connect"),
        ("DATA_DIR", "/proc/photochanger", "cannot be used"),
        ("KEY_ASIDE_SECONDS", "0", "greater than or equal to 10"),
        ("INGEST_PASSWORD", " padded ", "leading or trailing spaces"),
    ],
)
def test_each_bad_setting_exits_2_naming_the_variable_without_a_traceback(tmp_path, variable, value, reason):
    from typer.testing import CliRunner

    from photochanger.cli import app

    env = {"PHOTOCHANGER_DATA_DIR": str(tmp_path / "data"), f"PHOTOCHANGER_{variable}": value}
    done = CliRunner().invoke(app, ["serve", "--port", "9"], env=env)  # in process: a start costs no import
    assert done.exit_code == 2 and not isinstance(done.exception, Exception), done.output
    assert f"PHOTOCHANGER_{variable}" in done.stderr and reason in done.stderr, done.stderr


@pytest.mark.parametrize("password", ["changethis", " padded ", "abc"])
def test_every_way_to_set_the_ingest_password_has_the_same_rules(password):
    from photochanger.settings.schemas import SettingsUpdate

    with pytest.raises(ValidationError):
        SettingsUpdate(ingest_password=password)
