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
