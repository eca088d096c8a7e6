"""Regression tests for the hostile requests a review sent (issue 12): each answers 4xx in the one
error shape, naming the field, and the service keeps answering."""

import json

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import TrackFactory, event_payload
from tests.test_bad_input import WRITES, _url


@pytest.fixture
def track(alice):
    return TrackFactory(owner=alice)


def _events(client, body):
    return client.post("/api/v1/me/events", body, content_type="application/json")


def _rejected(response, index=0):
    assert response.status_code == 200, response.content
    return response.json()["results"][index]


def test_an_event_kind_that_is_not_a_string_is_rejected_not_500(alice_client, track):
    for kind in ([], {}, 1, None, True):
        result = _rejected(_events(alice_client, json.dumps({"events": [event_payload(track, kind=kind)]})))
        assert result["status"] == "rejected" and result["field"] == "kind", kind


@pytest.mark.parametrize("path", ["/api/v1/tracks", "/api/v1/generations", "/api/v1/me/events"])
@pytest.mark.parametrize("cursor", ["cD1hYmM%3D", "cD05OTk5LTk5LTk5VDk5Ojk5Ojk5Wg%3D%3D", "garbage", "bz0xJnA9eA%3D%3D"])
def test_a_forged_pagination_cursor_answers_400_naming_cursor(alice_client, path, cursor):
    response = alice_client.get(f"{path}?cursor={cursor}")
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()["error"]["fields"]


def test_a_page_size_that_is_not_a_number_answers_400(alice_client):
    for size in ("abc", "0", "-1", "201", "1e3"):
        response = alice_client.get(f"/api/v1/tracks?page_size={size}")
        assert response.status_code == 400, size
        assert "page_size" in response.json()["error"]["fields"]


@pytest.mark.parametrize(("name", "method"), WRITES)
def test_json_nested_1000_deep_answers_400_on_every_write_endpoint(name, method, alice, alice_client):
    body = "[" * 1000 + "]" * 1000
    response = getattr(alice_client, method.lower())(_url(name, alice), body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in {"invalid", "parse_error"}


def test_json_nested_100_deep_inside_a_field_names_the_field(alice_client):
    body = '{"events": [' + "[" * 100 + "]" * 100 + "]}"
    response = _events(alice_client, body)
    assert response.status_code == 400
    assert any(name.startswith("events") for name in response.json()["error"]["fields"])


@pytest.mark.parametrize("when", ["9999-99-99T99:99:99Z", "2026-01-01T00:00:00+99:00", "0001-01-01T00:00:00+23:59",
                                  "9999-12-31T23:59:59-23:59"])
def test_an_impossible_occurred_at_is_rejected_not_500(alice_client, track, when):
    result = _rejected(_events(alice_client, json.dumps({"events": [event_payload(track, occurred_at=when)]})))
    assert result["status"] == "rejected" and result["field"] == "occurred_at"


def test_a_lone_surrogate_in_client_event_id_answers_400_naming_it(alice_client, track):
    event = json.dumps(event_payload(track))[:-1] + ', "client_event_id": "\\udfff"}'
    response = _events(alice_client, '{"events": [' + event + "]}")
    assert response.status_code == 400, response.content
    assert "events.0.client_event_id" in response.json()["error"]["fields"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "1" * 5000])
def test_numbers_no_field_can_hold_answer_400_naming_the_field(alice_client, number):
    response = alice_client.patch("/api/v1/me/preferences", '{"energy": ' + number + "}",
                                  content_type="application/json")
    assert response.status_code == 400, response.content
    assert "energy" in response.json()["error"]["fields"]


def test_refreshing_a_token_after_delete_me_answers_401(alice, client_for):
    refresh = str(RefreshToken.for_user(alice))
    assert client_for(alice).delete("/api/v1/me").status_code == 204
    response = APIClient().post("/api/v1/auth/token/refresh", {"refresh": refresh}, format="json")
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"]


def test_401_messages_are_words_not_a_python_repr(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    body = client.get("/api/v1/me").json()["error"]
    assert body["code"] == "token_not_valid"
    assert "{" not in body["message"] and "ErrorDetail" not in body["message"]
    anonymous = APIClient().get("/api/v1/me")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"


def test_a_10_mb_body_answers_json_413(alice_client):
    response = alice_client.post("/api/v1/me/events", "x" * (10 * 1024 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_a_body_just_over_the_limit_answers_413(alice_client, settings):
    settings.CADENZA_API_MAX_BODY_BYTES = 1000
    body = json.dumps({"events": [{"note": "x" * 1000}]})
    response = alice_client.post("/api/v1/me/events", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_a_body_that_is_not_json_answers_415(alice_client):
    response = alice_client.post("/api/v1/me/events", "events=1", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_unknown_api_routes_answer_json_even_with_debug_on(db, settings):
    settings.DEBUG = True
    response = APIClient().get("/api/v1/no-such-route")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"


def test_a_server_error_under_api_answers_json_even_with_debug_on(alice_client, settings, monkeypatch):
    from accounts.api import views

    settings.DEBUG = True
    monkeypatch.setattr(views.MeApi, "get", lambda self, request: 1 / 0)
    client = APIClient(raise_request_exception=False)
    client.credentials(**alice_client._credentials)
    response = client.get("/api/v1/me")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "ZeroDivisionError" not in response.content.decode()
