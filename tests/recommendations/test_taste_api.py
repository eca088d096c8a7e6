"""GET /me/taste shows the taste in numbers and words; DELETE resets it to the stated preferences."""

from recommendations.models import TasteProfile
from tests.recommendations.conftest import complete, skip


def test_a_new_listener_sees_the_stated_preferences(alice_client):
    alice_client.patch("/api/v1/me/preferences", {"styles": ["piano"], "avoided_instruments": ["brass"]},
                       format="json")
    body = alice_client.get("/api/v1/me/taste").json()
    assert body["version"] == 0 and body["events_learned"] == 0 and body["moved"] == []
    weights = {f["name"]: f for f in body["features"]}
    assert weights["style_piano"]["weight"] > 0 > weights["family_brass"]["weight"]
    assert weights["style_piano"]["weight"] == weights["style_piano"]["prior"]
    assert "piano" in body["summary"]


def test_it_says_which_features_moved_and_which_events_moved_them(alice, alice_client, catalog, listen):
    piano = [t for t in catalog if t.style == "piano"]
    folk = [t for t in catalog if t.style == "folk"]
    listen(alice_client, [complete(t) for t in piano] + [skip(t, at_ms=500) for t in folk])
    body = alice_client.get("/api/v1/me/taste").json()
    assert body["version"] == 1 and body["events_learned"] == len(piano) + len(folk)
    moved = {m["feature"]: m for m in body["moved"]}
    assert moved, body["moved"]
    assert all(m["words"].startswith(("more fond of", "less fond of")) for m in body["moved"])
    assert any(set(m["share_by_kind"]) & {"complete", "skip"} for m in body["moved"])
    change = body["history"][0]["changes"]
    assert change and change[0]["events"] and change[0]["events"][0]["title"]
    named = {e["track"] for c in change for e in c["events"]}
    assert named <= {str(t.id) for t in piano + folk}
    weights = {f["name"]: f["weight"] for f in body["features"]}
    assert weights["style_piano"] > weights["style_folk"]


def test_delete_resets_to_the_stated_preferences_and_ignores_old_events(alice, alice_client, catalog, listen):
    listen(alice_client, [skip(t, at_ms=300) for t in catalog[:6]])
    assert alice_client.get("/api/v1/me/taste").json()["events_learned"] == 6
    body = alice_client.delete("/api/v1/me/taste").json()
    assert body["events_learned"] == 0 and body["moved"] == []
    assert all(f["weight"] == f["prior"] for f in body["features"])
    assert TasteProfile.objects.filter(user=alice).count() == 2  # the learned version is kept as history
    listen(alice_client, [complete(catalog[10])])
    assert alice_client.get("/api/v1/me/taste").json()["events_learned"] == 1  # only what came after


def test_changed_preferences_move_the_prior_but_keep_what_was_learned(alice_client, catalog, listen):
    listen(alice_client, [complete(t) for t in catalog[:3]])
    before = alice_client.get("/api/v1/me/taste").json()
    alice_client.patch("/api/v1/me/preferences", {"styles": ["cinematic"]}, format="json")
    after = alice_client.get("/api/v1/me/taste").json()
    assert after["events_learned"] == before["events_learned"] == 3
    w = {f["name"]: f for f in after["features"]}
    assert w["style_cinematic"]["prior"] > 0 and w["style_cinematic"]["weight"] > 0
