"""Bad input on every write endpoint answers 400 naming the field, never 500."""

import pytest
from django.urls import reverse

from tests.test_permissions import OBJECT_ROUTES, RULES

WRITES = [
    (name, method)
    for name, methods in RULES.items()
    for method in methods
    if method in {"POST", "PUT", "PATCH"}
]


def _url(name, alice):
    kwargs = {"pk": OBJECT_ROUTES[name](alice).pk} if name in OBJECT_ROUTES else {}
    return reverse(name, kwargs=kwargs)


@pytest.fixture
def client(alice, client_for):
    return client_for(alice)


@pytest.mark.parametrize(("name", "method"), WRITES)
def test_it_answers_malformed_json_with_400(name, method, alice, client):
    response = getattr(client, method.lower())(_url(name, alice), '{"broken": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


@pytest.mark.parametrize(("name", "method"), WRITES)
def test_it_names_an_unknown_field(name, method, alice, client):
    response = getattr(client, method.lower())(_url(name, alice), {"surprise": 1}, format="json")
    assert response.status_code == 400, response.json()
    assert "surprise" in response.json()["error"]["fields"]


@pytest.mark.parametrize(("name", "method"), WRITES)
@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null", "[{}]"])
def test_it_refuses_a_body_that_is_not_an_object(name, method, body, alice, client):
    response = getattr(client, method.lower())(_url(name, alice), body, content_type="application/json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["fields"] or response.json()["error"]["code"] == "parse_error"


def _request_fields(url: str, method: str) -> dict[str, str]:
    """The JSON fields the OpenAPI schema declares for a write operation."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    template = next(path for path in schema["paths"] if _matches(path, url))
    body = schema["paths"][template][method.lower()].get("requestBody")
    if not body:
        return {}
    ref = body["content"]["application/json"]["schema"].get("$ref", "")
    component = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    return {name: spec.get("type", "") for name, spec in component.get("properties", {}).items()}


def _matches(template: str, url: str) -> bool:
    import re

    return re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), url) is not None


@pytest.mark.parametrize(("name", "method"), WRITES)
def test_it_refuses_wrong_types_in_every_declared_field(name, method, alice, client):
    """Every field the schema declares, given a value of the wrong JSON type, is refused by name."""
    url = _url(name, alice)
    fields = _request_fields(url, method)
    assert fields, f"{method} {url} declares no request fields in the schema"
    for field_name, declared in fields.items():
        wrong = 42 if declared == "object" else {"nested": [1]}
        response = getattr(client, method.lower())(url, {field_name: wrong}, format="json")
        assert response.status_code == 400, (field_name, response.json())
        assert field_name in response.json()["error"]["fields"], (field_name, response.json())
