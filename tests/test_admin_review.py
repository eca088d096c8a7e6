"""The review admin as a reviewer uses it: the queue, the evidence on a track's page, and decisions
through the confirmation page (single and in bulk), with messages in words.

rita is a reviewer, vera view-only staff, sam a superuser; alice and bob are listeners.
"""

import re
import subprocess
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from generation.models import ReviewAction, ReviewEvent, Track, TrackReport, TrackStatus
from generation.services.tracks import track_decide
from tests.factories import PublishedTrackFactory
from tests.generation.reviewing import keys_of, stored_track

pytestmark = pytest.mark.django_db
QUEUE = "/admin/generation/track/"
S = TrackStatus


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _licence_key(licence_key):
    """Approvals sign catalog licences."""


def _titles(response) -> list[str]:
    return [track.title for track in response.context["cl"].result_list]


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# ------------------------------------------------------------------------------------------------
# The queue
# ------------------------------------------------------------------------------------------------
def test_the_queue_opens_on_what_waits_for_a_decision(rita, alice):
    for status in S.values:
        PublishedTrackFactory(owner=alice, status=status, title=f"track {status}")
    client = _client(rita)
    assert sorted(_titles(client.get(QUEUE))) == ["track flagged", "track in_review"]
    assert len(_titles(client.get(QUEUE + "?status=all"))) == len(S.values)
    assert _titles(client.get(QUEUE + "?status=rejected")) == ["track rejected"]


def _with_record(track, **changes):
    from generation.models import Provenance

    record = {**track.provenance.record, **changes}
    Provenance.objects.filter(pk=track.provenance.pk).delete()
    Provenance.objects.create(track=track, record=record, record_sha256="0" * 64, storage_key="provenance/x.json")
    return track


def test_the_queue_filters_by_style_mood_gates_verdict_reports_and_date(rita, alice, bob):
    calm = _with_record(PublishedTrackFactory(owner=alice, title="calm folk", style="folk"),
                        request={"mood": "calm"}, gates={"passed": True})
    tense = _with_record(PublishedTrackFactory(owner=alice, title="tense piano"), request={"mood": "tense"},
                         gates={"passed": False, "failures": [["loudness", "-12.9 LUFS"]]},
                         originality={"verdict": "too_close", "longest_match_notes": 14, "nearest_piece": "x"})
    old = PublishedTrackFactory(owner=alice, title="old piano")
    Track.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    TrackReport.objects.create(track=tense, reporter=bob, reason="known_work")
    client = _client(rita)
    assert _titles(client.get(QUEUE + "?style=folk")) == ["calm folk"]
    assert _titles(client.get(QUEUE + "?mood=tense")) == ["tense piano"]
    assert _titles(client.get(QUEUE + "?gates=failed")) == ["tense piano"]
    assert _titles(client.get(QUEUE + "?gates=passed")) == ["calm folk"]
    assert _titles(client.get(QUEUE + "?gates=missing")) == ["old piano"]
    assert _titles(client.get(QUEUE + "?verdict=too_close")) == ["tense piano"]
    assert sorted(_titles(client.get(QUEUE + "?verdict=original"))) == ["calm folk", "old piano"]
    assert _titles(client.get(QUEUE + "?reported=open")) == ["tense piano"]
    assert sorted(_titles(client.get(QUEUE + "?reported=never"))) == ["calm folk", "old piano"]
    since = (timezone.now() - timedelta(days=7)).isoformat()
    assert sorted(_titles(client.get(QUEUE, {"created_at__gte": since}))) == ["calm folk", "tense piano"]
    assert calm.title in client.get(QUEUE + "?style=folk").content.decode()


def test_the_queue_sorts_by_originality_score_and_by_reports_and_searches_title_and_ids(rita, alice, bob):
    scores = {"six": 6, "twelve": 12, "three": 3}
    tracks = {name: _with_record(PublishedTrackFactory(owner=alice, title=name),
                                 originality={"verdict": "original", "longest_match_notes": n, "nearest_piece": "x"})
              for name, n in scores.items()}
    TrackReport.objects.create(track=tracks["three"], reporter=bob, reason="offensive")
    TrackReport.objects.create(track=tracks["three"], reporter=alice, reason="other")
    TrackReport.objects.create(track=tracks["six"], reporter=bob, reason="other")
    client = _client(rita)
    page = client.get(QUEUE)
    headers = [h["text"] for h in page.context["result_headers"]]  # "o" counts columns from the checkbox
    by_score, by_reports = headers.index("originality"), headers.index("reports")
    assert _titles(client.get(QUEUE + f"?o=-{by_score}")) == ["twelve", "six", "three"]
    assert _titles(client.get(QUEUE + f"?o={by_score}")) == ["three", "six", "twelve"]
    assert _titles(client.get(QUEUE + f"?o=-{by_reports}"))[:2] == ["three", "six"]
    assert _titles(client.get(QUEUE + "?q=twel")) == ["twelve"]
    assert _titles(client.get(QUEUE + f"?q={tracks['six'].id}")) == ["six"]
    assert _titles(client.get(QUEUE + f"?q={str(tracks['six'].id)[:8]}")) == ["six"]


def test_reported_tracks_show_their_reports_in_the_queue_and_on_their_page(rita, alice, bob):
    track = PublishedTrackFactory(owner=alice, status=S.CATALOG, title="reported one")
    TrackReport.objects.create(track=track, reporter=bob, reason="known_work", note="it is Scarborough Fair")
    client = _client(rita)
    queue = client.get(QUEUE + "?reported=open&status=all").content.decode()
    assert re.search(r'class="reports-count"[^>]*>1<', queue)
    page = client.get(f"{QUEUE}{track.id}/change/").content.decode()
    assert "It copies a piece I know" in page and "it is Scarborough Fair" in page
    reports = client.get(f"/admin/generation/trackreport/?track__id__exact={track.id}").content.decode()
    assert "it is Scarborough Fair" in reports


# ------------------------------------------------------------------------------------------------
# The track page
# ------------------------------------------------------------------------------------------------
def _ebur128(data: bytes, suffix: str) -> tuple[float, float]:
    """Integrated loudness and true peak as ffmpeg's own ebur128 filter measures them."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=suffix) as f:
        f.write(data)
        f.flush()
        out = subprocess.run(["ffmpeg", "-nostats", "-i", f.name, "-af", "ebur128=peak=true", "-f", "null", "-"],
                             capture_output=True, text=True).stderr
    summary = out[out.rindex("Summary:"):]
    return (float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1)),
            float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1)))


def test_the_track_page_shows_the_evidence(local_media, rita, alice):
    from generation import objects

    track = stored_track(alice, title="Evidence piece", copy_of=("airdsAirs/book1.abc#19", 14), pictures=True)
    track_decide(track=track, reviewer=rita, action=ReviewAction.FLAG, reason="first look: close to Aird")
    track_decide(track=track, reviewer=rita, action=ReviewAction.APPROVE, reason="second look: fine")
    client = _client(rita)
    page = client.get(f"{QUEUE}{track.id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    fragments = re.findall(r'class="lazy-evidence" data-src="([^"]+)"', html)
    assert fragments == [f"{QUEUE}{track.id}/evidence/loudness/", f"{QUEUE}{track.id}/evidence/passage/"]
    html += "".join(client.get(url).content.decode() for url in fragments)  # what the page's script loads
    # requested vs measured, side by side
    assert re.search(r"<td>tempo \(BPM\)</td><td>120</td><td>119.6</td>", html)
    assert re.search(r"<td>key</td><td>D major</td><td>D major</td>", html)
    # the gates and loudness per rendition, measured on the stored files (checked against ffmpeg)
    assert "passed every gate" in html
    for rendition in track.renditions.all():
        lufs, _ = _ebur128(objects.read_object(rendition.key), "." + rendition.key.rsplit(".", 1)[1])
        shown = re.search(rf"{rendition.format}[^<]*</td><td>(-?[\d.]+) LUFS</td><td>(-?[\d.]+) dBTP", html)
        assert shown, rendition.format
        assert abs(float(shown.group(1)) - lufs) <= 0.3
    # originality: verdict, nearest piece, the passage (bars) and a picture of both melodies
    record = track.provenance.record["originality"]
    assert record["nearest_piece"] == "airdsAirs/book1.abc#19" and record["longest_match_notes"] >= 14
    assert f"{record['longest_match_notes']} notes" in html
    assert re.search(r"Matching passage: bars \d+–\d+ \(Piano\)", html)
    assert 'src="data:image/png;base64,' in html
    # pictures, licences, provenance, links to the job and back
    assert 'alt="piano roll"' in html and 'alt="waveform"' in html
    assert "LicenseRef-Cadenza-Personal-1.0" in html and "LicenseRef-Cadenza-Catalog-1.0" in html
    assert "the full provenance record" in html
    assert f"/admin/generation/generationjob/{track.job_id}/change/" in html
    job_page = _client(rita).get(f"/admin/generation/generationjob/{track.job_id}/change/").content.decode()
    assert f"/admin/generation/track/{track.id}/change/" in job_page
    # the decision history, newest first, with the reviewer and the reason
    history = html[html.index("Decisions, newest first"):]
    assert history.index("second look: fine") < history.index("first look: close to Aird")
    assert "rita@example.com" in history and "Flagged for a second review → In the shared catalog" in history


def test_a_taken_down_tracks_page_says_its_files_were_removed_instead_of_broken_pictures(local_media, rita, alice,
                                                                                      django_capture_on_commit_callbacks):
    track = stored_track(alice, pictures=True)
    with django_capture_on_commit_callbacks(execute=True):
        track_decide(track=track, reviewer=rita, action=ReviewAction.TAKE_DOWN, reason="notice #7")
    html = _client(rita).get(f"{QUEUE}{track.id}/change/").content.decode()
    assert "its 8 stored file(s) were removed" in html
    assert "/objects/" not in html and "<audio" not in html  # no URL to a file that is gone
    assert "notice #7" in html


def test_view_only_staff_see_the_evidence_but_no_decision(vera, rita, alice):
    track = PublishedTrackFactory(owner=alice, status=S.IN_REVIEW)
    viewer = _client(vera).get(f"{QUEUE}{track.id}/change/").content.decode()
    assert "piano roll" in viewer.lower() and 'class="decisions"' not in viewer and "/decide/" not in viewer
    decider = _client(rita).get(f"{QUEUE}{track.id}/change/").content.decode()
    for action in ("approve", "reject", "flag", "take_down"):
        assert f"/admin/generation/track/decide/{action}/?ids={track.id}" in decider
    assert "/decide/restore/" not in decider  # not allowed from "waiting for review"


def test_the_evidence_fragments_need_a_track_and_staff(vera, alice, bob):
    track = PublishedTrackFactory(owner=alice, status=S.IN_REVIEW)
    assert _client(vera).get(f"{QUEUE}{track.id}/evidence/loudness/").status_code == 200
    assert "file missing from storage" in _client(vera).get(f"{QUEUE}{track.id}/evidence/loudness/").content.decode()
    assert _client(vera).get(f"{QUEUE}{track.id}/evidence/nonsense/").status_code == 404
    listener = _client(bob).get(f"{QUEUE}{track.id}/evidence/loudness/")
    assert listener.status_code == 302 and listener["Location"].startswith("/admin/login/")


def test_view_only_staff_cannot_reach_the_confirmation_page_or_post_to_it(vera, alice):
    track = PublishedTrackFactory(owner=alice, status=S.IN_REVIEW)
    client = _client(vera)
    assert client.get(f"{QUEUE}decide/take_down/?ids={track.id}").status_code == 403
    response = client.post(f"{QUEUE}decide/take_down/", {"ids": str(track.id), "confirm": "yes", "reason": "x"})
    assert response.status_code == 403
    assert Track.objects.get(pk=track.pk).status == S.IN_REVIEW and not ReviewEvent.objects.exists()


def test_nobody_hard_deletes_a_track_in_the_admin(sam, alice):
    track = PublishedTrackFactory(owner=alice, status=S.CATALOG)
    client = _client(sam)
    assert client.get(f"{QUEUE}{track.id}/delete/").status_code == 403
    assert client.post(f"{QUEUE}{track.id}/delete/", {"post": "yes"}).status_code == 403
    assert Track.objects.filter(pk=track.pk).exists()


# ------------------------------------------------------------------------------------------------
# Decisions through the confirmation page
# ------------------------------------------------------------------------------------------------
def test_take_down_from_the_queue_asks_for_a_reason_and_lists_what_will_be_removed(
        local_media, rita, alice, django_capture_on_commit_callbacks):
    track = stored_track(alice, title="To go", pictures=True)
    client = _client(rita)
    confirm = client.post(QUEUE, {"action": "take_down", "_selected_action": [str(track.id)], "index": "0"})
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "Take down: 1 track?" in html and "8 files will be deleted from storage" in html
    for key in keys_of(track):
        assert key in html
    assert "Yes, take down 1 track" in html and "(required)" in html

    no_reason = client.post(f"{QUEUE}decide/take_down/", {"ids": str(track.id), "confirm": "yes", "reason": " ",
                                                          "next": QUEUE})
    assert no_reason.status_code == 200 and "Give the reason" in no_reason.content.decode()
    assert Track.objects.get(pk=track.pk).status == S.IN_REVIEW

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"{QUEUE}decide/take_down/", {"ids": str(track.id), "confirm": "yes",
                                                         "reason": "rights holder's notice", "next": QUEUE},
                           follow=True)
    assert "Took down 1 track" in _messages(done)
    event = ReviewEvent.objects.get()
    assert (event.reviewer, event.action, event.reason) == (rita, "take_down", "rights holder's notice")
    assert (event.from_status, event.to_status) == (S.IN_REVIEW, S.TAKEN_DOWN)


def test_bulk_approval_moves_what_it_may_and_says_why_it_left_the_rest(rita, alice):
    waiting = [PublishedTrackFactory(owner=alice, status=S.IN_REVIEW, title=f"waiting {i}") for i in range(2)]
    gone = PublishedTrackFactory(owner=alice, status=S.TAKEN_DOWN, title="gone")
    client = _client(rita)
    ids = [str(t.id) for t in [*waiting, gone]]
    confirm = client.post(QUEUE + "?status=all", {"action": "approve", "_selected_action": ids, "index": "0"})
    html = confirm.content.decode()
    assert "Approve into the catalog: 2 tracks?" in html
    assert "“gone” is taken down (its objects were removed): it cannot be approved" in html
    assert "a catalog licence is granted to its requester" in html and "(optional)" in html
    done = client.post(f"{QUEUE}decide/approve/", {"ids": ",".join(ids), "confirm": "yes", "reason": "",
                                                   "next": QUEUE}, follow=True)
    assert _messages(done) == ["“gone” is taken down (its objects were removed): it cannot be approved",
                               "Approved 2 tracks into the catalog"]
    assert sorted(Track.objects.values_list("status", flat=True)) == [S.CATALOG, S.CATALOG, S.TAKEN_DOWN]


@pytest.mark.parametrize(("start", "action", "reason", "message", "end"), [
    (S.IN_REVIEW, "reject", "clipping at 0:31", "Rejected 1 track", S.REJECTED),
    (S.IN_REVIEW, "flag", "ask Ana about the ending", "Flagged 1 track for a second review", S.FLAGGED),
    (S.REJECTED, "restore", "", "Restored 1 track to the review queue", S.IN_REVIEW),
])
def test_a_single_decision_from_the_track_page_returns_there(rita, alice, start, action, reason, message, end):
    track = PublishedTrackFactory(owner=alice, status=start)
    client = _client(rita)
    page = f"{QUEUE}{track.id}/change/"
    confirm = client.get(f"{QUEUE}decide/{action}/", {"ids": str(track.id), "next": page})
    assert confirm.status_code == 200 and "1 track will move to" in confirm.content.decode()
    done = client.post(f"{QUEUE}decide/{action}/", {"ids": str(track.id), "confirm": "yes", "reason": reason,
                                                    "next": page}, follow=True)
    assert done.redirect_chain[-1][0] == page
    assert message in _messages(done)
    assert Track.objects.get(pk=track.pk).status == end
    assert ReviewEvent.objects.get().reason == reason


def test_the_audit_trail_names_tracks_and_reviewers_newest_first_and_cannot_be_edited(rita, sam, alice):
    track = PublishedTrackFactory(owner=alice, status=S.IN_REVIEW, title="Audited piece")
    track_decide(track=track, reviewer=rita, action=ReviewAction.FLAG, reason="first")
    track_decide(track=track, reviewer=sam, action=ReviewAction.REJECT, reason="second")
    client = _client(sam)
    listing = client.get("/admin/generation/reviewevent/")
    assert [e.reason for e in listing.context["cl"].result_list] == ["second", "first"]
    html = listing.content.decode()
    assert "Audited piece" in html and "rita@example.com" in html and "sam@example.com" in html
    event = ReviewEvent.objects.get(reason="first")
    assert client.post(f"/admin/generation/reviewevent/{event.pk}/change/", {"reason": "edited"}).status_code == 403
    assert client.post(f"/admin/generation/reviewevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ReviewEvent.objects.get(pk=event.pk).reason == "first"
