"""The review side of the demo: a reviewer who can sign in and decide, and a queue with tracks in it."""

import pytest
from django.test import Client

from generation.models import GenerationJob, TrackReport, TrackStatus
from generation.services.demo import demo_review_queue_ensure, demo_reviewer_ensure
from tests.factories import PublishedTrackFactory

pytestmark = pytest.mark.django_db


def test_the_demo_reviewer_signs_in_and_may_decide_but_not_manage_users():
    account = demo_reviewer_ensure()
    assert demo_reviewer_ensure().user == account.user  # a second demo run keeps the same account
    client = Client()
    assert client.login(username=account.email, password=account.password)
    queue = client.get("/admin/generation/track/")
    assert queue.status_code == 200
    assert {"approve", "reject", "take_down"} <= {name for name, _ in queue.context["action_form"].fields["action"].choices}
    assert client.get("/admin/accounts/user/").status_code == 403
    assert account.user.groups.filter(name="reviewer").exists() and not account.user.is_superuser


def test_the_queue_is_left_alone_when_enough_tracks_wait(alice):
    for _ in range(3):
        PublishedTrackFactory(owner=alice, status=TrackStatus.IN_REVIEW)
    asked = []
    waiting = demo_review_queue_ensure(listener=alice, compose=asked.append, minimum=3)
    assert asked == [] and len(waiting) == 3
    assert TrackReport.objects.filter(reporter=alice).count() == 1  # one of them reported, to show it
    demo_review_queue_ensure(listener=alice, compose=asked.append, minimum=3)
    assert TrackReport.objects.count() == 1


@pytest.mark.slow
def test_missing_tracks_are_composed_through_the_real_pipeline_and_wait_for_review(
        s3, pipeline_settings, alice, alice_client, django_capture_on_commit_callbacks):
    def compose(overrides):
        with django_capture_on_commit_callbacks(execute=True):
            response = alice_client.post("/api/v1/generations", {**overrides, "length_s": 30, "seed": 3},
                                         format="json")
        return GenerationJob.objects.get(id=response.json()["id"])

    waiting = demo_review_queue_ensure(listener=alice, compose=compose, minimum=1)
    job = GenerationJob.objects.get(user=alice)
    assert job.status == "published", (job.error_code, job.error_message)
    assert [track.id for track in waiting] == [job.track.id]
    assert waiting[0].status == TrackStatus.IN_REVIEW and waiting[0].reports.count() == 1
    rita = demo_reviewer_ensure()
    client = Client()
    client.force_login(rita.user)
    assert job.track.title in client.get("/admin/generation/track/").content.decode()
