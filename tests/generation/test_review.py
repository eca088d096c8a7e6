"""The review state machine: each decision's effect on status, the catalog, licences, stored files,
what listeners can reach (tracks API, signed URLs, events) and the audit record it leaves.

Stored files live on the S3 API served over HTTP on loopback (moto's server), as in production.
"""

import json
import urllib.error
import urllib.request

import pytest
from django.core.exceptions import ValidationError

from generation import objects
from generation.models import (
    Licence,
    LicenceScope,
    ReportStatus,
    ReviewAction,
    ReviewEvent,
    Track,
    TrackReport,
    TrackStatus,
)
from generation.selectors import licence_for, tracks_visible_to
from generation.services.tracks import (
    DECISIONS,
    DecisionRefused,
    decision_plan,
    review_key,
    track_decide,
)
from tests.factories import PublishedTrackFactory, event_payload
from tests.generation.reviewing import keys_of, stored_track

pytestmark = pytest.mark.django_db
S = TrackStatus


@pytest.fixture(autouse=True)
def _licence_key(licence_key):
    """Approvals sign catalog licences."""


def _decide(track, who, action, reason="listened twice", capture=None):
    if capture is None:
        return track_decide(track=track, reviewer=who, action=action, reason=reason)
    with capture(execute=True):
        return track_decide(track=track, reviewer=who, action=action, reason=reason)


def _status_of(track) -> str:
    return Track.objects.values_list("status", flat=True).get(pk=track.pk)


def _exists_in_bucket(s3, key: str) -> bool:
    client, bucket = s3
    return client.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) > 0


# ------------------------------------------------------------------------------------------------
# One table of moves
# ------------------------------------------------------------------------------------------------
MOVES = [(action, status) for action in DECISIONS for status in S.values]


@pytest.mark.parametrize(("action", "status"), MOVES)
def test_a_decision_moves_a_track_only_from_the_states_the_table_allows(action, status, alice, rita):
    track = PublishedTrackFactory(owner=alice, status=status)
    decision = DECISIONS[action]
    if status in decision.sources:
        event = _decide(track, rita, action)
        assert _status_of(track) == decision.target == track.status
        assert (event.action, event.from_status, event.to_status) == (action, status, decision.target)
        assert (event.reviewer, event.reviewer_ref, event.reason) == (rita, rita.public_id, "listened twice")
    else:
        with pytest.raises(DecisionRefused, match="cannot be"):
            _decide(track, rita, action)
        assert _status_of(track) == status
        assert not ReviewEvent.objects.exists()


def test_a_taken_down_track_cannot_come_back_and_says_why(alice, rita):
    track = PublishedTrackFactory(owner=alice, status=S.TAKEN_DOWN)
    for action in (ReviewAction.APPROVE, ReviewAction.RESTORE):
        with pytest.raises(DecisionRefused, match="its objects were removed"):
            _decide(track, rita, action)


@pytest.mark.parametrize("action", [ReviewAction.REJECT, ReviewAction.FLAG, ReviewAction.TAKE_DOWN])
def test_a_decision_that_needs_a_reason_is_refused_without_one(action, alice, rita):
    track = PublishedTrackFactory(owner=alice, status=S.IN_REVIEW)
    with pytest.raises(DecisionRefused, match="a reason is needed"):
        _decide(track, rita, action, reason="   ")
    assert _status_of(track) == S.IN_REVIEW and not ReviewEvent.objects.exists()


@pytest.mark.parametrize("action", [ReviewAction.APPROVE, ReviewAction.RESTORE])
def test_approve_and_restore_need_no_reason(action, alice, rita):
    track = PublishedTrackFactory(owner=alice, status=S.REJECTED)
    assert _decide(track, rita, action, reason="").reason == ""


def test_a_stale_copy_of_a_track_cannot_undo_another_reviewers_decision(alice, rita):
    track = PublishedTrackFactory(owner=alice, status=S.IN_REVIEW)
    stale = Track.objects.get(pk=track.pk)
    _decide(track, rita, ReviewAction.TAKE_DOWN)
    with pytest.raises(DecisionRefused, match="taken down"):
        _decide(stale, rita, ReviewAction.APPROVE)  # the state machine reads the row, not the copy
    assert _status_of(track) == S.TAKEN_DOWN


# ------------------------------------------------------------------------------------------------
# The catalog and licences
# ------------------------------------------------------------------------------------------------
def test_approval_puts_the_track_in_the_catalog_with_a_catalog_licence(alice, bob, rita, bob_client):
    track = PublishedTrackFactory(owner=alice, status=S.IN_REVIEW)
    assert bob_client.get(f"/api/v1/tracks/{track.id}").status_code == 404
    event = _decide(track, rita, ReviewAction.APPROVE, reason="")
    catalog = track.licences.get(scope=LicenceScope.CATALOG)
    assert catalog.licensee == alice and catalog.revoked_at is None
    assert event.details["licences_granted"] == [str(catalog.id)]
    assert track in tracks_visible_to(user=bob)
    body = bob_client.get(f"/api/v1/tracks/{track.id}").json()
    assert body["licence"]["scope"] == LicenceScope.CATALOG
    assert licence_for(user=bob, track=Track.objects.get(pk=track.pk)) == catalog


def test_rejecting_a_catalog_track_revokes_its_catalog_licence_and_takes_it_from_everyone(
        alice, bob, rita, alice_client, bob_client):
    track = PublishedTrackFactory(owner=alice, status=S.IN_REVIEW)
    _decide(track, rita, ReviewAction.APPROVE)
    event = _decide(track, rita, ReviewAction.REJECT, reason="a listener recognised the tune")
    catalog = track.licences.get(scope=LicenceScope.CATALOG)
    assert catalog.revoked_at is not None
    assert event.details["licences_revoked"] == [str(catalog.id)]
    assert track.licences.get(scope=LicenceScope.PERSONAL).revoked_at is None  # restorable
    for client in (alice_client, bob_client):
        assert client.get(f"/api/v1/tracks/{track.id}").status_code == 404
        assert client.get(f"/api/v1/tracks/{track.id}/midi").status_code == 404
    assert not tracks_visible_to(user=alice).filter(pk=track.pk).exists()


def test_approving_again_reinstates_the_catalog_licence_instead_of_issuing_a_second(alice, rita):
    track = PublishedTrackFactory(owner=alice, status=S.IN_REVIEW)
    _decide(track, rita, ReviewAction.APPROVE)
    _decide(track, rita, ReviewAction.FLAG, reason="second opinion on the ending")
    assert track.licences.get(scope=LicenceScope.CATALOG).revoked_at is not None
    event = _decide(track, rita, ReviewAction.APPROVE, reason="")
    catalog = track.licences.get(scope=LicenceScope.CATALOG)
    assert catalog.revoked_at is None and event.details["licences_reinstated"] == [str(catalog.id)]
    assert track.licences.filter(scope=LicenceScope.CATALOG).count() == 1


def test_a_flagged_track_leaves_the_catalog_but_its_owner_still_hears_it(alice, bob, rita, alice_client, bob_client):
    track = PublishedTrackFactory(owner=alice, status=S.CATALOG)
    _decide(track, rita, ReviewAction.FLAG, reason="might be too close to a folk tune")
    assert bob_client.get(f"/api/v1/tracks/{track.id}").status_code == 404
    assert alice_client.get(f"/api/v1/tracks/{track.id}").status_code == 200


def test_restore_puts_a_rejected_track_back_in_the_queue_and_its_owner_hears_it_again(alice, rita, alice_client):
    track = PublishedTrackFactory(owner=alice, status=S.IN_REVIEW)
    _decide(track, rita, ReviewAction.REJECT, reason="clipping at 0:12")
    assert alice_client.get(f"/api/v1/tracks/{track.id}").status_code == 404
    event = _decide(track, rita, ReviewAction.RESTORE, reason="the clipping was in my headphones")
    assert (event.from_status, event.to_status) == (S.REJECTED, S.IN_REVIEW)
    assert alice_client.get(f"/api/v1/tracks/{track.id}").status_code == 200


@pytest.mark.parametrize("status", [S.REJECTED, S.TAKEN_DOWN])
def test_events_naming_a_rejected_or_taken_down_track_are_refused_like_an_unknown_track(status, alice, rita,
                                                                                        alice_client):
    track = PublishedTrackFactory(owner=alice, status=S.IN_REVIEW)
    assert alice_client.post("/api/v1/me/events", {"events": [event_payload(track)]},
                             format="json").json()["results"][0]["status"] == "accepted"
    _decide(track, rita, ReviewAction.REJECT if status == S.REJECTED else ReviewAction.TAKE_DOWN)
    result = alice_client.post("/api/v1/me/events", {"events": [event_payload(track)]}, format="json").json()
    assert result["results"][0]["status"] == "rejected" and result["results"][0]["field"] == "track"


# ------------------------------------------------------------------------------------------------
# Take-down: files, licences, URLs
# ------------------------------------------------------------------------------------------------
def test_take_down_removes_every_file_revokes_every_licence_and_its_urls_stop(
        s3, alice, rita, alice_client, django_capture_on_commit_callbacks):
    track = stored_track(alice, status=S.CATALOG, pictures=True)
    keys = keys_of(track)
    assert len(keys) == 8 and all(_exists_in_bucket(s3, key) for key in keys)
    listed = alice_client.get(f"/api/v1/tracks/{track.id}").json()
    issued = listed["renditions"][0]["url"]
    with urllib.request.urlopen(issued, timeout=10) as response:
        assert response.status == 200

    plan = decision_plan(track=track, action=ReviewAction.TAKE_DOWN)
    assert sorted(f.key for f in plan.removes) == sorted(keys)
    event = _decide(track, rita, ReviewAction.TAKE_DOWN, reason="rights holder's notice #42",
                    capture=django_capture_on_commit_callbacks)

    assert not any(_exists_in_bucket(s3, key) for key in keys)
    assert sorted(event.details["objects_removed"]) == sorted(keys)
    assert sorted(event.details["licences_revoked"]) == sorted(str(i) for i in track.licences.values_list("id", flat=True))
    assert all(lic.revoked_at for lic in Licence.objects.filter(track=track))
    track.refresh_from_db()
    assert (track.renditions.count(), track.midi_key, track.piano_roll_key, track.waveform_key) == (0, "", "", "")
    assert alice_client.get(f"/api/v1/tracks/{track.id}").status_code == 404
    assert alice_client.get(f"/api/v1/tracks/{track.id}/midi").status_code == 404
    assert alice_client.get(f"/api/v1/tracks/{track.id}/licence").status_code == 404
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(issued, timeout=10)  # a URL issued before the take-down finds nothing
    assert gone.value.code == 404
    document = json.loads(objects.read_object(review_key(track.id)))
    assert document["status"] == S.TAKEN_DOWN
    assert document["history"][-1] | {"at": None} == {
        "action": "take_down", "from": S.CATALOG, "to": S.TAKEN_DOWN, "reason": "rights holder's notice #42",
        "at": None, "reviewer_ref": str(rita.public_id)}


def test_take_down_keeps_a_file_another_track_shares(s3, alice, bob, rita, django_capture_on_commit_callbacks):
    track = stored_track(alice, seed=3)
    twin = stored_track(bob, seed=3)  # the same notes: content addressing gives the same audio keys
    shared = {r.key for r in twin.renditions.all()}
    assert shared == {r.key for r in track.renditions.all()}
    event = _decide(track, rita, ReviewAction.TAKE_DOWN, reason="duplicate upload",
                    capture=django_capture_on_commit_callbacks)
    assert all(_exists_in_bucket(s3, key) for key in shared)
    assert not shared & set(event.details["objects_removed"])


def test_a_signed_url_of_the_embedded_default_stops_working_after_take_down(
        local_media, alice, rita, alice_client, client, django_capture_on_commit_callbacks):
    track = stored_track(alice)
    issued = alice_client.get(f"/api/v1/tracks/{track.id}").json()["renditions"][0]["url"]
    assert client.get(issued, HTTP_RANGE="bytes=0-99").status_code == 206
    _decide(track, rita, ReviewAction.TAKE_DOWN, reason="notice", capture=django_capture_on_commit_callbacks)
    assert client.get(issued).status_code == 404


# ------------------------------------------------------------------------------------------------
# The audit record and reports
# ------------------------------------------------------------------------------------------------
def test_a_decision_record_cannot_be_changed_or_deleted(alice, rita):
    event = _decide(PublishedTrackFactory(owner=alice, status=S.IN_REVIEW), rita, ReviewAction.REJECT)
    event.reason = "something kinder"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    with pytest.raises(ValidationError):
        ReviewEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(ValidationError):
        ReviewEvent.objects.all().delete()
    assert ReviewEvent.objects.get(pk=event.pk).reason == "listened twice"


def test_the_record_outlives_the_reviewer_and_the_track(alice, rita):
    track = PublishedTrackFactory(owner=alice, status=S.IN_REVIEW)
    event = _decide(track, rita, ReviewAction.REJECT)
    rita.delete()
    Track.objects.filter(pk=track.pk).delete()
    event = ReviewEvent.objects.get(pk=event.pk)
    assert (event.track, event.reviewer) == (None, None)
    assert (event.track_ref, event.reviewer_ref, event.to_status) == (track.id, rita.public_id, S.REJECTED)


def test_a_decision_resolves_the_tracks_open_reports(alice, bob, rita):
    track = PublishedTrackFactory(owner=alice, status=S.CATALOG)
    report = TrackReport.objects.create(track=track, reporter=bob, reason="known_work", note="sounds like Greensleeves")
    event = _decide(track, rita, ReviewAction.APPROVE, reason="checked: only four notes in common")
    report.refresh_from_db()
    assert (report.status, report.resolved_by) == (ReportStatus.RESOLVED, event)
    assert event.details["reports_resolved"] == 1
    assert (event.from_status, event.to_status) == (S.CATALOG, S.CATALOG)  # kept in the catalog


def test_the_provenance_api_shows_the_decisions(alice, rita, alice_client):
    track = PublishedTrackFactory(owner=alice, status=S.IN_REVIEW)
    _decide(track, rita, ReviewAction.FLAG, reason="odd ending")
    history = alice_client.get(f"/api/v1/tracks/{track.id}/provenance").json()["review_history"]
    assert [(h["action"], h["reason"]) for h in history] == [("flag", "odd ending")]


@pytest.mark.django_db(transaction=True)
def test_reviewers_taking_down_one_track_at_once_make_one_decision(alice, licence_key):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (CI sets DATABASE_URL)")
    import threading

    from tests.generation.reviewing import reviewer

    track = PublishedTrackFactory(owner=alice, status=S.IN_REVIEW)
    reviewers = [reviewer(f"reviewer{i}@example.com") for i in range(6)]
    start, outcomes = threading.Barrier(len(reviewers)), []

    def decide(who, action) -> None:
        start.wait()
        try:
            track_decide(track=track, reviewer=who, action=action, reason="at the same moment")
            outcomes.append(action)
        except DecisionRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(who, ReviewAction.TAKE_DOWN)) for who in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 5 + [ReviewAction.TAKE_DOWN]
    event = ReviewEvent.objects.get()  # one decision recorded: the others found it taken down
    assert (event.from_status, event.to_status) == (S.IN_REVIEW, S.TAKEN_DOWN)
    assert Licence.objects.filter(track=track, revoked_at__isnull=False).count() == 1


def test_erasing_a_listener_removes_their_private_tracks_files_but_keeps_their_catalog_track(
        s3, alice, alice_client, django_capture_on_commit_callbacks):
    waiting, shared = stored_track(alice, seed=11), stored_track(alice, seed=12, status=S.CATALOG)
    with django_capture_on_commit_callbacks(execute=True):
        assert alice_client.delete("/api/v1/me").status_code == 204
    assert not any(_exists_in_bucket(s3, key) for key in keys_of(waiting))  # the composed MIDI too
    assert not Track.objects.filter(pk=waiting.pk).exists()
    assert all(_exists_in_bucket(s3, r.key) for r in shared.renditions.all())
    assert Track.objects.get(pk=shared.pk).owner is None
