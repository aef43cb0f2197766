"""``/docs`` matches reality: schemathesis fuzzes every operation of the live OpenAPI document
against a dedicated server and finds no 5xx, no undocumented status codes or content types, and
no response that violates its schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, Service

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzzed_server(fake_gemini, tmp_path_factory):
    """A server of its own: the fuzzer changes passwords, slots and settings at random."""
    data_dir = tmp_path_factory.mktemp("openapi")
    server = Service(f"sqlite+aiosqlite:///{data_dir / 'openapi.db'}", data_dir, fake_gemini)
    server.start()
    server.cli("admin", "create", ADMIN_USER, "--password", ADMIN_PASSWORD)
    server.token = server.login(ADMIN_USER, ADMIN_PASSWORD).json()["access_token"]
    yield server
    server.stop()


@pytest.mark.parametrize("method_path", ["all"])
def test_api_conforms_to_its_openapi(fuzzed_server, method_path):
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.base_url}/openapi.json").exclude(path="/api/logout")
    headers = {"Authorization": f"Bearer {fuzzed_server.token}"}  # /api/logout excluded: it would end this session
    failures, operations = {}, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS, timeout=60)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, then report all
            failures[f"{operation.method.upper()} {operation.path}"] = str(exc)[:1500]
    assert operations >= 20
    assert not failures, "\n\n".join(f"{name}: {text}" for name, text in failures.items())
