"""Hypothesis-built hostile bodies on every write endpoint (deep nesting, huge numbers, wrong
types, lone surrogates, NaN/Infinity, control characters) → never a server error, always the one
error shape or a success. Prints the number of cases tried and server errors (run with ``-s``)."""

import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_bad_input import WRITES, _request_fields, _url

CASES_PER_ENDPOINT = 40
TRIED: Counter[str] = Counter()
SERVER_ERRORS: Counter[str] = Counter()

# JSON text that json.dumps would not write: NaN, Infinity, 400-digit numbers, lone surrogates
RAW_SCALARS = st.sampled_from([
    "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1" * 400, "-" + "9" * 60, "1.5e308", "5e-324",
    '"\\udfff"', '"\\ud800x"', '"\\u0000"', '"\\u202eevil"', '"\\u200b"', '"\\u0007"', "true", "null", "0", "-0",
    '""', '"' + "x" * 5000 + '"', "[]", "{}",
])


def _deep(depth: int, leaf: str) -> str:
    return "[" * depth + leaf + "]" * depth


def _json_text(value) -> str:
    return json.dumps(value, ensure_ascii=True)


ordinary = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
).map(_json_text)
hostile_value = RAW_SCALARS | ordinary | st.builds(_deep, st.integers(1, 3000), RAW_SCALARS)


@st.composite
def hostile_body(draw, fields: list[str]) -> str:
    """A JSON object over the endpoint's declared fields (and some others), hostile values inside."""
    names = draw(st.lists(st.sampled_from(fields) | st.text(max_size=6), min_size=0, max_size=4, unique=True))
    members = [f"{_json_text(name)}: {draw(hostile_value)}" for name in names]
    body = "{" + ", ".join(members) + "}"
    return draw(st.sampled_from([body, _deep(draw(st.integers(1, 2000)), body), body + "x", body[:-1]]))


@pytest.mark.parametrize(("name", "method"), WRITES)
def test_hostile_bodies_never_get_a_server_error(name, method, alice, client_for):
    client = client_for(alice)
    client.raise_request_exception = False
    url = _url(name, alice)
    fields = sorted(_request_fields(url, method)) or ["x"]

    @settings(max_examples=CASES_PER_ENDPOINT, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(body=hostile_body(fields))
    def attack(body: str) -> None:
        response = getattr(client, method.lower())(url, body, content_type="application/json")
        TRIED[f"{method} {url}"] += 1
        if response.status_code >= 500:
            SERVER_ERRORS[f"{method} {url}"] += 1
        assert response.status_code < 500, (body[:300], response.content[:300])
        assert response["Content-Type"].startswith("application/json")
        if response.status_code >= 400:
            assert set(response.json()["error"]) == {"code", "message", "fields"}

    attack()


def test_report_hostile_cases(request):
    """The figures, once every endpoint has run (last in this module)."""
    print(json.dumps({"drill": "hostile_bodies", "endpoints": len(TRIED), "cases": sum(TRIED.values()),
                      "server_errors": sum(SERVER_ERRORS.values())}))
    if TRIED:
        assert sum(SERVER_ERRORS.values()) == 0
