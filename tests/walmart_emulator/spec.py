"""Validate emulator responses against Walmart's OpenAPI specs (settings.WALMART_API_SPECS_DIR).

`assert_matches_spec(spec, path, method, status, body)` resolves the response schema of the operation
and validates `body` with an OpenAPI 3.0 validator. Tests that use it skip when the specs are absent
(and fail under CI: tests/specs_required.py).
"""

import functools
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from openapi_schema_validator import OAS30Validator


def specs_dir() -> Path:
    return Path(settings.WALMART_API_SPECS_DIR) / "us-mp-openapi-2024-12"


requires_specs = pytest.mark.usefixtures("walmart_openapi_specs")


@functools.cache
def spec_load(name: str) -> dict:
    path = specs_dir() / f"walmart-marketplace-{name}-openapi-original.yml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open() as handle:
        return yaml.load(handle, Loader=loader)  # noqa: S506 - safe loader


def _inline(document: dict, node, depth: int = 0):
    if depth > 40:
        return {}
    if isinstance(node, dict):
        if "$ref" in node:
            target = document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _inline(document, target, depth + 1)
        return {
            key: _inline(document, value, depth + 1)
            for key, value in node.items()
            if key not in ("example", "examples")
        }
    if isinstance(node, list):
        return [_inline(document, value, depth + 1) for value in node]
    return node


@functools.cache
def response_schema(spec: str, path: str, method: str, status: str) -> dict:
    document = spec_load(spec)
    response = _inline(document, document["paths"][path][method]["responses"][status])
    return response["content"]["application/json"]["schema"]


def schema_at(spec: str, path: str, method: str, status: str, *pointer: str) -> dict:
    schema = response_schema(spec, path, method, status)
    for part in pointer:
        schema = schema["items"] if part == "[]" else schema["properties"][part]
    return schema


def assert_valid(schema: dict, body) -> None:
    errors = sorted(OAS30Validator(schema).iter_errors(body), key=lambda error: list(error.path))
    assert not errors, "; ".join(f"{list(error.path)}: {error.message}" for error in errors[:5])


def assert_matches_spec(spec: str, path: str, method: str, status: str, body) -> None:
    assert_valid(response_schema(spec, path, method, status), body)
