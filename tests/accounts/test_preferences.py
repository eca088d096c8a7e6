"""Listening preferences: validated, versioned, never overwritten."""

import pytest

from accounts.models import PreferenceVersion

FULL = {
    "styles": ["piano", "ambient"],
    "moods": ["calm", "dreamy"],
    "tempo_min": 60,
    "tempo_max": 90,
    "energy": 0.3,
    "preferred_instruments": ["piano", "strings"],
    "avoided_instruments": ["brass"],
    "mode": "minor",
    "length_min_s": 60,
    "length_max_s": 180,
    "exploration": 0.2,
}


def test_it_shows_the_defaults_to_a_new_listener(alice_client):
    body = alice_client.get("/api/v1/me/preferences").json()
    assert body["version"] == 1
    assert 40 <= body["tempo_min"] <= body["tempo_max"] <= 220


def test_it_replaces_preferences_as_a_new_version(alice, alice_client):
    response = alice_client.put("/api/v1/me/preferences", FULL, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2
    assert response.json()["styles"] == ["piano", "ambient"]
    assert PreferenceVersion.objects.filter(user=alice).count() == 2
    assert PreferenceVersion.objects.get(user=alice, version=1).styles == []


def test_it_patches_one_field_and_keeps_the_rest(alice_client):
    alice_client.put("/api/v1/me/preferences", FULL, format="json")
    response = alice_client.patch("/api/v1/me/preferences", {"energy": 0.9}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["energy"] == 0.9
    assert response.json()["moods"] == ["calm", "dreamy"]
    assert response.json()["version"] == 3


def test_it_requires_every_field_on_put(alice_client):
    response = alice_client.put("/api/v1/me/preferences", {"energy": 0.5}, format="json")
    assert response.status_code == 400
    assert "styles" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("styles", ["polka-techno"]),
        ("styles", "piano"),
        ("styles", ["piano", "piano"]),
        ("moods", ["angry"]),
        ("tempo_min", 39),
        ("tempo_max", 221),
        ("tempo_min", "fast"),
        ("energy", 1.5),
        ("energy", -0.1),
        ("preferred_instruments", ["kazoo"]),
        ("mode", "lydian"),
        ("length_min_s", 29),
        ("length_max_s", 601),
        ("exploration", 2),
        ("exploration", None),
        ("colour", "blue"),
    ],
)
def test_it_names_the_field_of_a_bad_value(alice, alice_client, field, value):
    response = alice_client.patch("/api/v1/me/preferences", {field: value}, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert PreferenceVersion.objects.filter(user=alice).count() == 1


def test_it_refuses_min_above_max(alice_client):
    response = alice_client.patch("/api/v1/me/preferences", {"tempo_min": 150, "tempo_max": 100}, format="json")
    assert response.status_code == 400
    assert "tempo_min" in response.json()["error"]["fields"]


def test_it_refuses_an_instrument_both_preferred_and_avoided(alice_client):
    body = FULL | {"avoided_instruments": ["piano"]}
    response = alice_client.put("/api/v1/me/preferences", body, format="json")
    assert response.status_code == 400
    assert "avoided_instruments" in response.json()["error"]["fields"]


def test_it_lists_the_styles_the_arranger_knows(anon_client):
    slugs = {style["slug"] for style in anon_client.get("/api/v1/styles").json()["results"]}
    assert {"chamber", "piano", "folk", "ambient", "lo-fi", "electronic", "cinematic"} <= slugs


def test_put_accepts_the_body_get_answered_ignoring_its_read_only_fields(alice, alice_client):
    alice_client.put("/api/v1/me/preferences", FULL, format="json")
    got = alice_client.get("/api/v1/me/preferences").json()
    assert {"version", "created_at"} <= set(got)
    response = alice_client.put("/api/v1/me/preferences", got | {"energy": 0.7, "version": 99}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 3 and response.json()["energy"] == 0.7


def test_preferences_answer_an_etag_and_304_until_they_change(alice_client):
    first = alice_client.get("/api/v1/me/preferences")
    tag = first["ETag"]
    assert tag.startswith('"') and first["Cache-Control"] == "private, no-cache"
    again = alice_client.get("/api/v1/me/preferences", HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == tag
    alice_client.patch("/api/v1/me/preferences", {"energy": 0.9}, format="json")
    changed = alice_client.get("/api/v1/me/preferences", HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200 and changed["ETag"] != tag


def test_the_styles_answer_a_strong_etag_and_304(anon_client):
    tag = anon_client.get("/api/v1/styles")["ETag"]
    assert anon_client.get("/api/v1/styles", HTTP_IF_NONE_MATCH=f'"other", {tag}').status_code == 304
    assert anon_client.get("/api/v1/styles", HTTP_IF_NONE_MATCH='"other"').status_code == 200


@pytest.mark.parametrize(("field", "value"), [("version", "2"), ("version", True), ("created_at", "yesterday"),
                                              ("created_at", 17)])
def test_put_refuses_a_read_only_value_the_api_could_not_have_given(alice_client, field, value):
    got = alice_client.get("/api/v1/me/preferences").json()
    response = alice_client.put("/api/v1/me/preferences", got | {field: value}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_the_schema_marks_the_read_only_fields_of_put_read_only():
    from drf_spectacular.generators import SchemaGenerator

    body = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]["PreferencesInputRequest"]
    assert body["additionalProperties"] is False
    assert body["properties"]["version"]["readOnly"] and body["properties"]["created_at"]["readOnly"]
    assert "version" not in body["required"]
