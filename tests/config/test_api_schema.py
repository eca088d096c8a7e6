"""The OpenAPI schema documents every operation's error responses, all in the one error shape."""

import pytest
from drf_spectacular.generators import SchemaGenerator

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def test_it_declares_the_one_error_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert set(detail["properties"]) == {"code", "message", "fields"}


def test_every_error_response_uses_the_error_schema(schema):
    seen = 0
    for method, path, operation in _operations(schema):
        for code, response in operation["responses"].items():
            if code.startswith(("4", "5")):
                seen += 1
                assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (method, path, code)
                assert response["description"], (method, path, code)
    assert seen > 100


def test_every_write_documents_400_413_and_415(schema):
    for method, path, operation in _operations(schema):
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(operation["responses"]), (method, path)


def test_every_authenticated_operation_documents_401_and_429(schema):
    for method, path, operation in _operations(schema):
        if operation.get("security") and {} not in operation["security"]:
            assert {"401", "429"} <= set(operation["responses"]), (method, path)


def test_every_operation_on_an_object_documents_404(schema):
    for method, path, operation in _operations(schema):
        if "{" in path:
            assert "404" in operation["responses"], (method, path)


def test_paginated_lists_document_400_for_a_bad_cursor(schema):
    for path in ("/api/v1/tracks", "/api/v1/generations", "/api/v1/me/events"):
        assert "400" in schema["paths"][path]["get"]["responses"], path


def test_a_status_a_view_adds_itself_gets_the_error_schema(schema):
    report = schema["paths"]["/api/v1/tracks/{id}/report"]["post"]["responses"]["409"]
    assert report["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}
    quota = schema["paths"]["/api/v1/generations"]["post"]["responses"]["429"]
    assert quota["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}


def test_token_operations_document_401(schema):
    assert "401" in schema["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert "401" in schema["paths"]["/api/v1/auth/token/refresh"]["post"]["responses"]


def test_the_schema_has_no_generator_warnings(capsys):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
