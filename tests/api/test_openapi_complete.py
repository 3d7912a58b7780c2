"""The OpenAPI document is complete and says what the API does, route by route.

Schemathesis (test_openapi_fuzz.py) holds the running API to this document; these checks hold
the document to the routes: every route is in it, every operation says what it does, what it
returns on success, and every error a client can meet (401/403/429 where a key is needed, 404
where a path names something, 422 where input is read, 503 when a backend is down).
"""

import pkgutil
from typing import Any

import pytest
from fastapi.routing import APIRoute

import api.routes
from api.app import ROUTERS
from infra.settings import Settings
from workers.http import create_app

# Routes left out of the document on purpose, with why.
HIDDEN = {
    # the catch-all for a misspelt action name: answers 404 naming the actions that exist
    ("POST", "/api/matches/{match_id}/actions/{action}"),
}
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def app():
    return create_app(Settings(), backend=None)  # the document needs no backend


@pytest.fixture(scope="module")
def spec(app) -> dict[str, Any]:
    return app.openapi()


def _operations(spec: dict[str, Any]):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def _resolve(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_every_routes_module_is_served():
    modules = {m.name for m in pkgutil.iter_modules(api.routes.__path__)}
    assert modules == {m.__name__.rpartition(".")[2] for m in ROUTERS}


def test_every_route_is_documented(spec):
    routes = {
        (method, route.path)
        for module in ROUTERS
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    documented = {(method, path) for method, path, _ in _operations(spec)}
    assert routes - HIDDEN == documented
    assert HIDDEN <= routes, "a hidden route that no longer exists: drop it from HIDDEN"


def test_every_operation_says_what_it_does(spec):
    ids = []
    for method, path, operation in _operations(spec):
        where = f"{method} {path}"
        assert operation.get("summary"), f"{where}: no summary"
        assert len(operation.get("description", "")) >= 20, f"{where}: no description"
        assert operation.get("tags"), f"{where}: no tag"
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids)), "operation ids must be unique"


def test_every_success_has_a_body_schema(spec):
    for method, path, operation in _operations(spec):
        successes = {c: r for c, r in operation["responses"].items() if c.startswith("2")}
        assert successes, f"{method} {path}: no success response"
        for code, response in successes.items():
            if code == "204":
                continue
            content = response.get("content")
            assert content, f"{method} {path} {code}: no content"
            for media, body in content.items():
                schema = body.get("schema")
                assert schema, f"{method} {path} {code} {media}: no schema"
                if media == "application/json":
                    assert schema != {}, f"{method} {path} {code}: an untyped JSON body"


def test_every_error_a_client_can_meet_is_documented(spec):
    for method, path, operation in _operations(spec):
        where, codes = f"{method} {path}", set(operation["responses"])
        assert {"400", "413", "503"} <= codes, where
        parameters = operation.get("parameters", [])
        if parameters or "requestBody" in operation:
            assert "422" in codes, f"{where}: reads input but documents no 422"
        if any(p["in"] == "path" for p in parameters):
            assert "404" in codes, f"{where}: names something in its path but documents no 404"
        if path.startswith("/api/"):
            assert operation.get("security"), f"{where}: needs a key but says none"
            assert {"401", "403", "429"} <= codes, f"{where}: key errors undocumented"
        for code, response in operation["responses"].items():
            if code[0] in "45":  # one shape: a `detail` sentence, and `errors` item by item
                schema = _resolve(spec, response["content"]["application/json"]["schema"]["$ref"])
                assert "detail" in schema["required"], f"{where} {code}: no detail"
                assert schema["properties"]["detail"]["type"] == "string", where
                assert schema["properties"]["errors"]["type"] == "array", where
            assert response.get("description"), f"{where} {code}: no description"


def test_every_reference_resolves(spec):
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                _resolve(spec, node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec["paths"])
    walk(spec["components"])


def test_security_schemes_are_the_api_keys(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"
    assert schemes["apiKey"] == {**schemes["apiKey"], "in": "header", "name": "X-API-Key"}
