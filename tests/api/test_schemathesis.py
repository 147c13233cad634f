"""schemathesis against the live OpenAPI schema, in-process over WSGI, with a write key:
every operation, zero server errors, zero schema violations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from config.wsgi import application
from tests.api.world import build_side

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
CALLS: dict[str, int] = {}
REPORT = Path(__file__).resolve().parents[2] / "var" / "schemathesis-cases.json"


@pytest.fixture
def keep_connection():
    """Like Django's test client: a WSGI request must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def write_key(db, keep_connection):
    """A populated organization so generated ids sometimes hit real rows."""
    own = build_side("Fuzzed CDMO")
    build_side("Neighbour CDMO")
    return own.keys["write"]


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_schema(case, write_key):
    case.call_and_validate(headers={"Authorization": f"Bearer {write_key}"}, checks=CHECKS)
    label = f"{case.operation.method.upper()} {case.operation.path}"
    CALLS[label] = CALLS.get(label, 0) + 1


def test_zz_report_generated_cases():
    """Runs after the fuzzing (file order): every operation was exercised; counts saved."""
    if not CALLS:
        pytest.skip("the schemathesis tests did not run in this session")
    operations = {
        f"{op.method.upper()} {op.path}" for op in (r.ok() for r in schema.get_all_operations())
    }
    assert set(CALLS) == operations
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps({"total": sum(CALLS.values()), "per_operation": CALLS}, indent=2))
    print(f"schemathesis: {sum(CALLS.values())} generated cases over {len(CALLS)} operations")
