"""Schemathesis against a real `policykb serve`: requests generated from its OpenAPI schema (valid and
invalid parameters, random uploads, deletes of random ids) with the token, so the write endpoints are
exercised too. No request may get a 5xx, and every response conforms to the schema: a declared status,
the declared media type and a body the declared model describes (every API error the one JSON shape)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import schemathesis
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import PLANS, SEED, build_home, serving
from search_api import Settings, create_app
from search_api.error_models import PublicModel

# the 督查台账 (of a document, of a department) as files: their media types are declared instead
FILE_ROUTES = {"tasks_csv", "tasks_xlsx", "department_tasks_csv", "department_tasks_xlsx"}
ERROR_REF = "#/components/schemas/ErrorResponse"
TOKEN = "schema-token-0123456"  # the service refuses tokens under 16 characters
EXAMPLES = int(os.environ.get("POLICYKB_SCHEMA_EXAMPLES", "60"))
REPORT = Path(__file__).resolve().parent / "artifacts" / "schemathesis.json"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, allow_header_conformance]
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
def test_responses_conform_to_the_schema(case):
    response = case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)
    counts = served.setdefault(f"{case.method} {case.path}", {})
    counts[response.status_code] = counts.get(response.status_code, 0) + 1
    if response.status_code >= 400 and case.path.startswith("/api/"):
        error = response.json()["error"]
        assert error["status"] == response.status_code and error["code"] and error["message"], error
        assert "Traceback" not in response.text


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The application unstarted: its routes and schema, no store opened."""
    return create_app(Settings(home=tmp_path_factory.mktemp("routes")))


def public_model(response_model):
    """The model of a body: `Model` or `list[Model]`."""
    return response_model.__args__[0] if getattr(response_model, "__origin__", None) is list else response_model


def test_every_api_json_route_has_a_response_model(app):
    routes = {route.name: route for route in iter_route_contexts(app.routes)
              if isinstance(route.original_route, APIRoute) and route.path.startswith("/api/")}
    assert FILE_ROUTES <= set(routes) and len(routes) == 16, sorted(routes)
    for name, route in routes.items():
        if name in FILE_ROUTES:
            assert route.response_model is None and "json" not in route.response_class.media_type, name
        else:
            model = public_model(route.response_model)
            assert isinstance(model, type) and issubclass(model, PublicModel), (name, route.response_model)


def test_the_schema_declares_every_body_and_only_the_error_shape_the_server_sends(app):
    schema = app.openapi()
    assert "HTTPValidationError" not in json.dumps(schema) and "ErrorResponse" in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                where = f"{method.upper()} {path} {status}"
                if status.startswith("2") and "tasks." not in path:
                    body = response["content"]["application/json"]["schema"]
                    assert body.get("$ref") or body["items"]["$ref"], where
                elif not status.startswith("2"):
                    assert response["content"] == {"application/json": {"schema": {"$ref": ERROR_REF}}}, where
                    assert response["description"], where
