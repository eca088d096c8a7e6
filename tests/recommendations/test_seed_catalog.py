"""seed_catalog composes an approved shared catalog with the real pipeline, and resumes."""

import io
import json

import pytest
from django.core.management import call_command

from generation.models import GenerationJob, Licence, LicenceScope, TrackStatus
from recommendations.services.catalog import CURATOR_EMAIL, plan

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def seed(tracks: int) -> dict:
    out = io.StringIO()
    call_command("seed_catalog", "--tracks", str(tracks), "--seconds", "8", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_it_composes_approves_and_resumes(pipeline_settings, local_media, alice_client):
    first = seed(1)
    assert (first["made_now"], first["published"], first["catalog_tracks"]) == (1, 1, 1), first
    again = seed(2)  # the first is there: only the second is composed
    assert (again["made_now"], again["already_there"], again["catalog_tracks"]) == (1, 1, 2), again
    jobs = GenerationJob.objects.filter(user__email=CURATOR_EMAIL).order_by("seed")
    assert [(j.style, j.work["request"]["mood"]) for j in jobs] == [(plan(i).style, plan(i).mood) for i in range(2)]
    assert all(j.track.status == TrackStatus.CATALOG for j in jobs)
    assert Licence.objects.filter(track__job__in=jobs, scope=LicenceScope.CATALOG).count() == 2
    listed = alice_client.get("/api/v1/catalog").json()["results"]
    assert len(listed) == 2 and all(t["streams"] for t in listed)


def test_demo_ends_with_the_listeners_first_playlist(pipeline_settings, local_media, client_for):
    from accounts.models import User
    from tests.generation.reviewing import reviewer_group

    reviewer_group()  # migration data, gone from a flushed (transactional) database
    from accounts.services import preferences_update, user_register
    from recommendations.management.commands.demo import EMAIL, PASSWORD, PREFERENCES

    listener = user_register(email=EMAIL, password=PASSWORD)  # as demo makes it, with 30 s tracks
    preferences_update(user=listener, changes=PREFERENCES | {"length_min_s": 30, "length_max_s": 30})
    out = io.StringIO()
    call_command("demo", "--tracks", "1", "--catalog", "1", "--seconds", "8", "--addr", "127.0.0.1:8123", stdout=out)
    text = out.getvalue()
    assert "curl -s http://127.0.0.1:8123/api/v1/me/playlist" in text, text  # where make demo serves
    assert "first personal playlist (2 items)" in text and "/api/v1/me/playlist" in text, text
    assert "Demo reviewer: reviewer@cadenza.local" in text and "(1 waiting)" in text, text
    body = client_for(User.objects.get(email="demo@cadenza.local")).get("/api/v1/me/playlist").json()
    assert [i["kind"] for i in body["items"]] == ["track", "track"]
    assert all(i["track"]["streams"] and i["reason"] for i in body["items"])
