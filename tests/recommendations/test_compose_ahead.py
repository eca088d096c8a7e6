"""Compose-ahead: a playlist short of unplayed good-fit tracks asks generation for more, within
the quota and the cap on jobs in flight; pending tracks show in the playlist with their job."""

from generation.model.conditioning import Conditioning
from generation.models import GenerationJob
from recommendations.services.compose import compose_ahead
from recommendations.services.listening import playlists_refill
from tests.recommendations.conftest import complete


def _prefs(client, **changes):
    base = {"styles": ["piano", "chamber"], "tempo_min": 60, "tempo_max": 90, "avoided_instruments": ["brass"]}
    assert client.patch("/api/v1/me/preferences", base | changes, format="json").status_code == 200


def test_a_listener_who_heard_everything_gets_new_tracks_composed(alice, alice_client, catalog, listen, settings):
    settings.CADENZA_RECS_MAX_PENDING = 3
    _prefs(alice_client)
    listen(alice_client, [complete(t) for t in catalog])
    jobs = compose_ahead(user=alice)
    assert len(jobs) == 3  # K = 5 wanted, the cap allows 3 in flight
    for job in jobs:
        request = job.work["request"]
        conditioning = Conditioning.from_vector(job.conditioning)
        assert request["style"] in {"piano", "chamber"}
        assert 60 <= conditioning.tempo_bpm <= 90
        assert "brass" not in conditioning.families and request["avoid_instruments"] == ["brass"]
    body = alice_client.get("/api/v1/me/playlist").json()
    pending = [item for item in body["items"] if item["kind"] == "pending"]
    assert {p["job"]["id"] for p in pending} == {str(j.id) for j in jobs}
    assert all(p["job"]["progress"] == 0 and p["job"]["status"] == "queued" for p in pending)
    assert compose_ahead(user=alice) == []  # the cap is reached: nothing more until some finish


def test_it_stays_within_the_daily_quota(alice, alice_client, catalog, listen, settings):
    settings.CADENZA_GENERATION_QUOTA_PER_DAY = 1
    listen(alice_client, [complete(t) for t in catalog])
    assert len(compose_ahead(user=alice)) == 1
    GenerationJob.objects.filter(user=alice).update(status="published")
    assert compose_ahead(user=alice) == []  # quota used up: no job, no error
    assert GenerationJob.objects.filter(user=alice).count() == 1


def test_enough_unplayed_good_fit_tracks_compose_nothing(alice, alice_client, catalog):
    alice_client.get("/api/v1/me/playlist")
    assert compose_ahead(user=alice) == []


def test_refresh_composes_ahead_when_asked(alice, alice_client, catalog, listen, django_capture_on_commit_callbacks):
    listen(alice_client, [complete(t) for t in catalog])
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        body = alice_client.post("/api/v1/me/playlist/refresh", {}, format="json").json()
    assert [i for i in body["items"] if i["kind"] == "track"] == []  # all heard in the window
    after_commit[0]()  # the compose-ahead task (its own generation enqueues are not run here)
    assert GenerationJob.objects.filter(user=alice).count() == 2
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        alice_client.post("/api/v1/me/playlist/refresh", {"compose_ahead": False}, format="json")
    assert after_commit == []


def test_beat_refills_active_listeners_only(alice, bob, alice_client, catalog, listen):
    listen(alice_client, [complete(t) for t in catalog])
    assert playlists_refill() == [alice.pk]  # bob sent nothing
    assert GenerationJob.objects.filter(user=alice).count() == 2
    assert not GenerationJob.objects.filter(user=bob).exists()


def test_the_refill_command_tops_up_active_listeners(alice, alice_client, catalog, listen):
    import io
    import json

    from django.core.management import call_command

    listen(alice_client, [complete(t) for t in catalog])
    out = io.StringIO()
    call_command("refill_playlists", stdout=out)
    assert json.loads(out.getvalue()) == {"listeners": [alice.pk]}
    assert GenerationJob.objects.filter(user=alice).count() == 2
