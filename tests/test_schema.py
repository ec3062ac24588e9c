"""Schemathesis against a real `policykb serve`: requests generated from its OpenAPI schema (valid and
invalid parameters, random uploads, deletes of random ids) with the token, so the write endpoints are
exercised too. No request may get a 5xx, and every API error has the one JSON error shape."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from conftest import PLANS, SEED, build_home, serving

TOKEN = "schema-token-0123456"  # the service refuses tokens under 16 characters
EXAMPLES = int(os.environ.get("POLICYKB_SCHEMA_EXAMPLES", "60"))
REPORT = Path(__file__).resolve().parent / "artifacts" / "schemathesis.json"
served: dict[str, dict[int, int]] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    home = build_home(tmp_path_factory.mktemp("schema"), [SEED, *PLANS])
    # The fuzzer also tries requests without the token: no lockout here, so the writes stay covered.
    with serving(home, POLICYKB_TOKEN=TOKEN, POLICYKB_EMBED_IN_BACKGROUND="false", POLICYKB_MAX_UPLOAD_MB="1",
                 POLICYKB_AUTH_MAX_FAILURES="10000") as base:
        yield schemathesis.openapi.from_url(f"{base}/openapi.json")
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(served, ensure_ascii=False, indent=1), encoding="utf-8")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    response = case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=[not_a_server_error])
    counts = served.setdefault(f"{case.method} {case.path}", {})
    counts[response.status_code] = counts.get(response.status_code, 0) + 1
    if response.status_code >= 400 and case.path.startswith("/api/"):
        error = response.json()["error"]
        assert error["status"] == response.status_code and error["code"] and error["message"], error
        assert "Traceback" not in response.text
