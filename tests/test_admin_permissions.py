"""Who may do what in the review admin: a reviewer decides; view-only staff look; listeners get nothing.

Users: rita is in the ``reviewer`` group (made by a data migration), vera is staff with only
``generation.view_track``, sam is a superuser, alice a listener.
"""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from generation.models import ReviewEvent, Track, TrackStatus
from tests.factories import PublishedTrackFactory

pytestmark = pytest.mark.django_db
QUEUE = "/admin/generation/track/"
DECISION_ACTIONS = {"approve", "reject", "flag", "take_down", "restore"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def waiting(alice):
    return PublishedTrackFactory(owner=alice, status=TrackStatus.IN_REVIEW, title="Waiting piece")


def _offered_actions(response) -> set[str]:
    form = response.context["action_form"]
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


def test_the_reviewer_group_holds_only_what_a_decision_needs():
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name="reviewer").permissions.all()}
    assert granted == {
        "generation.review_track", "generation.view_track", "generation.view_generationjob",
        "generation.view_jobtransition", "generation.view_reviewevent", "generation.view_trackreport",
    }


def test_a_reviewer_is_offered_the_decisions(rita, waiting):
    response = _client(rita).get(QUEUE)
    assert response.status_code == 200
    assert _offered_actions(response) >= DECISION_ACTIONS
    assert "delete_selected" not in _offered_actions(response)


def test_a_reviewer_cannot_edit_users_groups_licences_or_provenance(rita, alice):
    client = _client(rita)
    for url in ("/admin/accounts/user/", f"/admin/accounts/user/{alice.pk}/change/", "/admin/accounts/user/add/",
                "/admin/auth/group/"):
        assert client.get(url).status_code == 403, url
    response = client.post(f"/admin/accounts/user/{alice.pk}/change/", {"email": "mallory@example.com"})
    assert response.status_code == 403
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"
    for url in ("/admin/generation/licence/", "/admin/generation/provenance/"):
        assert client.get(url).status_code == 404, url  # not in the admin at all
    for perm in ("accounts.change_user", "generation.change_licence", "generation.delete_licence",
                 "generation.change_provenance", "generation.delete_track", "generation.change_reviewevent"):
        assert not rita.has_perm(perm), perm


def test_view_only_staff_see_the_queue_but_no_action(vera, waiting):
    response = _client(vera).get(QUEUE)
    assert response.status_code == 200
    assert "Waiting piece" in response.content.decode()
    assert _offered_actions(response) == set()


@pytest.mark.parametrize("action", sorted(DECISION_ACTIONS | {"delete_selected"}))
def test_a_forged_action_from_view_only_staff_changes_nothing_and_answers_403(vera, waiting, action):
    response = _client(vera).post(QUEUE, {"action": action, "_selected_action": [str(waiting.pk)], "index": "0",
                                          "reason": "forged", "post": "yes"})
    assert response.status_code == 403
    assert Track.objects.get(pk=waiting.pk).status == TrackStatus.IN_REVIEW
    assert not ReviewEvent.objects.exists()
    assert waiting.renditions.count() == 1 and not waiting.licences.filter(revoked_at__isnull=False).exists()


def test_an_action_nobody_offers_answers_403_even_to_a_superuser(sam, waiting):
    response = _client(sam).post(QUEUE, {"action": "make_famous", "_selected_action": [str(waiting.pk)], "index": "0"})
    assert response.status_code == 403


def test_a_superuser_sees_every_decision(sam, waiting):
    assert _offered_actions(_client(sam).get(QUEUE)) >= DECISION_ACTIONS


def test_a_listener_gets_no_admin(alice):
    client = _client(alice)
    response = client.get(QUEUE)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    login = Client().post("/admin/login/", {"username": alice.email, "password": "correct horse battery staple"})
    assert login.status_code == 200  # the form again, with "not a staff account"
    assert "_auth_user_id" not in login.wsgi_request.session
