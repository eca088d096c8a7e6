"""The generation quota as a listener sees it: GET /me/quota, and a 429 that says when to retry."""

from datetime import timedelta

from django.utils import timezone

from generation.models import GenerationJob
from tests.factories import job_for


def test_a_new_listener_has_the_whole_quota(alice_client, settings):
    body = alice_client.get("/api/v1/me/quota").json()
    assert body == {"limit": settings.CADENZA_GENERATION_QUOTA_PER_DAY, "used": 0,
                    "remaining": settings.CADENZA_GENERATION_QUOTA_PER_DAY, "window_s": 86400,
                    "next_unit_at": None, "retry_after_s": 0}


def test_it_counts_the_last_24_hours_only_and_says_when_a_unit_frees(alice, alice_client, bob, settings):
    settings.CADENZA_GENERATION_QUOTA_PER_DAY = 2
    old = job_for(alice)
    GenerationJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    oldest_in_window = job_for(alice)
    GenerationJob.objects.filter(pk=oldest_in_window.pk).update(created_at=timezone.now() - timedelta(hours=23))
    job_for(alice)
    job_for(bob)
    body = alice_client.get("/api/v1/me/quota").json()
    assert (body["used"], body["remaining"]) == (2, 0)
    assert 3500 <= body["retry_after_s"] <= 3600


def test_the_quota_429_says_retry_after(alice, alice_client, settings):
    settings.CADENZA_GENERATION_QUOTA_PER_DAY = 1
    job = job_for(alice)
    GenerationJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=22))
    response = alice_client.post("/api/v1/generations", {}, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "quota_exceeded"
    assert 7100 <= int(response["Retry-After"]) <= 7200
