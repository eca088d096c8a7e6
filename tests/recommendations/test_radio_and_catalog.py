"""Radio (an endless station seeded by a track) and the shared catalog with its filters."""

from generation.models import GenerationJob, TrackStatus
from tests.recommendations.conftest import complete, make_track


def radio(client, track, **params):
    response = client.get(f"/api/v1/tracks/{track.id}/radio", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_station_starts_near_the_seed_and_pages_never_repeat(alice_client, catalog):
    seed = next(t for t in catalog if t.style == "electronic")
    first = radio(alice_client, seed, page_size=5)
    assert first["results"][0]["track"]["style"] == "electronic"
    assert "sounds like" in first["results"][0]["reason"]
    seen = [r["track"]["id"] for r in first["results"]]
    page = first
    while len(seen) < len(catalog) - 1:
        page = alice_client.get(page["next"]).json()
        tracks = [r["track"]["id"] for r in page["results"] if r["kind"] == "track"]
        assert tracks, "the catalog ran out early"
        seen += tracks
    assert len(seen) == len(set(seen)) == len(catalog) - 1 and str(seed.id) not in seen


def test_past_the_end_of_the_catalog_it_composes_near_the_seed(alice, alice_client, bob):
    seed = make_track(bob, "piano", 66.0, "minor", ["piano"])
    others = [make_track(bob, "folk", 120.0, "major", ["ethnic", "drums"]) for _ in range(2)]
    page = radio(alice_client, seed, page_size=5)
    assert {r["track"]["id"] for r in page["results"] if r["kind"] == "track"} == {str(t.id) for t in others}
    pending = [r for r in page["results"] if r["kind"] == "pending"]
    assert pending and all(r["job"]["progress"] == 0 for r in pending)
    jobs = GenerationJob.objects.filter(user=alice)
    assert {j.work["request"]["style"] for j in jobs} == {"piano"}
    tempos = [j.conditioning[0] for j in jobs]
    assert all(66.0 * 0.92 <= t <= 66.0 * 1.08 for t in tempos), tempos
    nxt = alice_client.get(page["next"]).json()
    assert nxt["next"] and [r for r in nxt["results"] if r["kind"] == "track"] == []


def test_the_station_skips_what_was_just_heard(alice_client, catalog, listen):
    listen(alice_client, [complete(t) for t in catalog[:4]])
    ids = {r["track"]["id"] for r in radio(alice_client, catalog[10], page_size=30)["results"] if r["kind"] == "track"}
    assert not ids & {str(t.id) for t in catalog[:4]}


def test_a_forged_cursor_is_refused_by_name(alice_client, catalog):
    response = alice_client.get(f"/api/v1/tracks/{catalog[0].id}/radio", {"cursor": "forged"})
    assert response.status_code == 400 and "cursor" in response.json()["error"]["fields"]


def test_another_listeners_private_track_seeds_no_station(alice_client, bob):
    private = make_track(bob, "piano", 66.0, "minor", ["piano"], status=TrackStatus.PRIVATE)
    assert alice_client.get(f"/api/v1/tracks/{private.id}/radio").status_code == 404


def catalog_ids(client, **params):
    response = client.get("/api/v1/catalog", params)
    assert response.status_code == 200, response.content
    return {t["id"] for t in response.json()["results"]}


def test_the_catalog_is_the_approved_shared_tracks_only(alice, alice_client, bob, catalog):
    own_private = make_track(alice, "piano", 66.0, "minor", ["piano"], status=TrackStatus.PRIVATE)
    in_review = make_track(bob, "piano", 66.0, "minor", ["piano"], status=TrackStatus.IN_REVIEW)
    rejected = make_track(bob, "piano", 66.0, "minor", ["piano"], status=TrackStatus.REJECTED)
    ids = catalog_ids(alice_client, page_size=100)
    assert ids == {str(t.id) for t in catalog}
    assert not ids & {str(own_private.id), str(in_review.id), str(rejected.id)}


def test_the_catalog_filters_by_style_tempo_key_and_mode(alice_client, catalog):
    by = lambda pred: {str(t.id) for t in catalog if pred(t)}  # noqa: E731
    assert catalog_ids(alice_client, style="piano") == by(lambda t: t.style == "piano")
    assert catalog_ids(alice_client, style=["piano", "folk"]) == by(lambda t: t.style in ("piano", "folk"))
    assert catalog_ids(alice_client, tempo_min=100, tempo_max=125) == by(lambda t: 100 <= t.measured["tempo"] <= 125)
    assert catalog_ids(alice_client, mode="minor") == by(lambda t: t.measured["mode"] == "minor")
    assert catalog_ids(alice_client, key=5) == by(lambda t: t.measured["key_tonic"] == 5)


def test_the_catalog_filters_by_mood(alice_client, bob):
    from generation.models import Provenance

    calm, tense = (make_track(bob, "ambient", 62.0, "major", ["synth_pad"]) for _ in range(2))
    for track, mood in ((calm, "calm"), (tense, "tense")):
        Provenance.objects.create(track=track, record={"request": {"mood": mood}}, record_sha256="0" * 64,
                                  storage_key=f"provenance/{track.id}.json")
    assert catalog_ids(alice_client, mood="calm") == {str(calm.id)}


def test_a_bad_filter_is_refused_by_name(alice_client, catalog):
    for params, field in (({"style": "polka"}, "style"), ({"tempo_min": "fast"}, "tempo_min"), ({"key": 12}, "key"),
                          ({"mode": "dorian"}, "mode")):
        response = alice_client.get("/api/v1/catalog", params)
        assert response.status_code == 400 and field in response.json()["error"]["fields"], (params, response.json())


def test_an_empty_filter_is_refused_by_name_not_ignored(alice_client, catalog):
    """Regression (schemathesis ST201): ``?tempo_min=`` answered 200 with the whole catalog."""
    for field in ("tempo_min", "tempo_max", "key", "mode", "style", "mood"):
        response = alice_client.get(f"/api/v1/catalog?{field}=")
        assert response.status_code == 400 and field in response.json()["error"]["fields"], (field, response.json())
    assert alice_client.get("/api/v1/catalog?tempo_min=0").status_code == 200
