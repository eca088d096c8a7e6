"""Generation jobs end to end, in-process: request → compose → … → published track with its records.

Runs the real stages (debug model weights, FluidSynth, pedalboard, ffmpeg, C2PA, Ed25519) against
the S3 API on loopback, and checks what a listener and an auditor would notice.
"""

import io
import json
import urllib.request
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pretty_midi
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from generation import objects
from generation.models import GenerationJob, JobStatus, Licence, Provenance, Track, TrackStatus
from generation.services import jobs
from generation.services.sweeper import objects_sweep
from generation.services.tracks import track_take_down
from recommendations.services.generations import generation_request_create

pytestmark = [pytest.mark.slow, pytest.mark.django_db]  # one kind, so the file order holds

REQUEST = {"style": "piano", "length_s": 30, "seed": 7, "mood": "calm"}
PIPELINE_ORDER = ["queued", "composing", "arranging", "rendering", "mastering", "encoding", "checking", "publishing", "published"]


def _generate(client, django_capture_on_commit_callbacks, body=REQUEST):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/generations", body, format="json")
    assert response.status_code == 202, response.json()
    return GenerationJob.objects.get(id=response.json()["id"])


def _fetch(url: str, **headers) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=20) as response:
        return response.status, response.headers, response.read()


@pytest.fixture(scope="module")
def published(django_db_setup, django_db_blocker, s3_endpoint, debug_checkpoint, dev_certs, tmp_path_factory):
    """One job run through the whole pipeline, shared by the read-only checks of this module."""
    import boto3
    from django.test import override_settings
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from generation import pipeline
    from generation.services import licences
    from tests.conftest import s3_settings
    from tests.factories import UserFactory

    bucket = "cadenza-jobs-module"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=bucket)
    overrides = override_settings(
        AWS_STORAGE_BUCKET_NAME=bucket, STORAGES=s3_settings(s3_endpoint, bucket),
        CADENZA_CHECKPOINT=debug_checkpoint, CADENZA_COMPOSE_OPTIONS={"n_candidates": 1},
        CADENZA_C2PA_CERT=dev_certs.chain, CADENZA_C2PA_KEY=dev_certs.key,
        CADENZA_DEV_LICENCE_KEY_PATH=tmp_path_factory.mktemp("licence") / "key.pem",
    )
    overrides.enable()
    pipeline.model_bundle.cache_clear()
    licences.signing_key.cache_clear()
    with django_db_blocker.unblock():
        owner = UserFactory(email="alice@example.com")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(owner).access_token}")
        response = client.post("/api/v1/generations", REQUEST, format="json")  # autocommit: runs now
        job = GenerationJob.objects.get(id=response.json()["id"])
        assert job.status == JobStatus.PUBLISHED, (job.error_code, job.error_message)
        yield job
        owner.delete()
        Track.objects.all().delete()
    overrides.disable()
    pipeline.model_bundle.cache_clear()
    licences.signing_key.cache_clear()


@pytest.fixture
def s3_module(published):
    import boto3
    from django.conf import settings

    options = settings.STORAGES["default"]["OPTIONS"]
    client = boto3.client("s3", endpoint_url=options["endpoint_url"], region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    return client, options["bucket_name"]


def test_a_request_becomes_a_published_track_through_every_state(published, alice_client):
    body = alice_client.get(f"/api/v1/generations/{published.id}").json()
    assert body["status"] == "published" and body["progress"] == 100 and body["error"] is None
    moves = list(published.transitions.values_list("from_status", "to_status"))
    assert [to for _, to in moves] == PIPELINE_ORDER
    assert Track.objects.filter(job=published).count() == 1


def test_the_track_lists_tagged_renditions_behind_signed_urls(published, alice_client):
    track = alice_client.get(f"/api/v1/tracks/{published.track.id}").json()
    from generation.audio.encode import RENDITIONS

    assert {r["format"] for r in track["renditions"]} == {spec.name for spec in RENDITIONS}
    assert 28.5 <= track["duration_s"] <= 31.5
    mp3 = next(r for r in track["renditions"] if r["format"] == "aac-128")
    assert parse_qs(urlparse(mp3["url"]).query)["X-Amz-Expires"] == ["300"]
    status, headers, data = _fetch(mp3["url"], Range="bytes=0-4095")
    assert status == 206 and len(data) == 4096
    assert headers["Content-Range"] == f"bytes 0-4095/{mp3['size']}"
    assert track["licence"]["licence_id"] == "LicenseRef-Cadenza-Personal-1.0"


def test_every_object_describes_itself_without_user_data(published, alice, s3_module):
    client, bucket = s3_module
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert any(key.startswith("tracks/") for key in keys)
    for key in keys:
        assert alice.email not in key and str(alice.pk) not in key.split("/")
    for rendition in published.track.renditions.all():
        head = client.head_object(Bucket=bucket, Key=rendition.key)
        meta = head["Metadata"]
        assert meta["sha256"] == rendition.sha256
        assert meta["provenance-id"] == str(published.track.provenance.id)
        assert meta["licence-id"] == "LicenseRef-Cadenza-Personal-1.0"
        assert alice.email not in json.dumps(meta)


def test_the_midi_round_trips_through_its_signed_url(published, alice_client):
    response = alice_client.get(f"/api/v1/tracks/{published.track.id}/midi")
    assert response.status_code == 302
    _, _, data = _fetch(response["Location"])
    midi = pretty_midi.PrettyMIDI(io.BytesIO(data))
    assert sum(len(i.notes) for i in midi.instruments) > 0
    assert objects.sha256_hex(data) == published.track.midi_sha256


def test_provenance_holds_the_full_record(published, alice_client, alice):
    record = alice_client.get(f"/api/v1/tracks/{published.track.id}/provenance").json()
    for field in ("requester", "created_at", "model", "code_version", "seed", "sampling", "conditioning",
                  "preference_snapshot", "attributes", "arrangement", "soundfont", "mix", "master",
                  "renditions", "midi", "originality", "review_history"):
        assert field in record, field
    assert record["requester"] == str(alice.public_id)
    assert record["model"]["checkpoint_sha256"] and record["model"]["manifest_sha256"]
    assert record["soundfont"]["licence"] == "MIT" and len(record["soundfont"]["sha256"]) == 64
    assert record["soundfont"]["name"] == "FluidR3 GM" and record["soundfont"]["known"] is True
    assert record["content_credentials"] == {"c2pa": "signed", "published_without_c2pa": False}
    assert record["conditioning"]["schema"] == "cond-v1" and len(record["conditioning"]["vector"]) == 25
    assert -14.5 <= record["master"]["lufs"] <= -13.5 and record["master"]["true_peak_dbtp"] <= -1.0
    assert {r["sha256"] for r in record["renditions"]} == set(published.track.renditions.values_list("sha256", flat=True))
    assert alice.email not in json.dumps(record)


def test_every_rendition_regenerates_sample_for_sample_from_provenance(published):
    out = io.StringIO()
    call_command("verify_track", "--all", "--audio", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["renditions"] == len(published.work["renditions"]) and report["renditions_pcm_match"] == report["renditions"]
    for r in published.track.provenance.record["renditions"]:  # gated on the decoded file
        assert abs(r["decoded"]["lufs"] + 14.0) <= 0.5 and r["decoded"]["true_peak_dbtp"] <= -1.0, r


def test_the_midi_regenerates_byte_for_byte_from_provenance(published):
    out = io.StringIO()
    call_command("verify_track", str(published.track.id), "--json", stdout=out)
    assert json.loads(out.getvalue())["midi_sha256_match"] is True


def test_verification_re_arranges_with_the_arranger_version_the_record_names(published):
    from generation.audio.arrange import ARRANGER_VERSION
    from generation.services.verification import track_verify

    track = published.track
    record = track.provenance.record
    assert record["arrangement"]["version"] == ARRANGER_VERSION == 5
    assert track_verify(track=track)["midi_sha256_match"] is True
    record["arrangement"]["version"] = 1  # as if version 1 had arranged it: another arrangement
    try:
        assert track_verify(track=track)["midi_sha256_match"] is False
        del record["arrangement"]["version"]  # records from before versions were arranged by 1
        assert track_verify(track=track)["midi_sha256_match"] is False
    finally:
        record["arrangement"]["version"] = ARRANGER_VERSION


def test_a_track_made_by_a_retired_checkpoint_verifies_from_the_archive(published, settings, tmp_path):
    import shutil

    import torch

    from generation import pipeline
    from generation.model.network import CondTransformer
    from generation.model.train import DEBUG_MODEL, TrainConfig, _checkpoint_payload
    from generation.services.verification import track_verify

    made_by = published.track.provenance.record["model"]["checkpoint_sha256"]
    old_checkpoint = settings.CADENZA_CHECKPOINT
    torch.manual_seed(99)  # the deployment moves on to another checkpoint
    successor = tmp_path / "successor.pt"
    torch.save(_checkpoint_payload(CondTransformer(DEBUG_MODEL), TrainConfig(model=DEBUG_MODEL), "0" * 64, {}), successor)
    settings.CADENZA_CHECKPOINT = successor
    settings.CADENZA_CHECKPOINT_ARCHIVE = tmp_path / "archive"
    pipeline.model_bundle.cache_clear()
    try:
        missing = track_verify(track=published.track)
        assert missing["midi_sha256_match"] is False and made_by in missing["reason"]
        (tmp_path / "archive").mkdir()
        shutil.copy(old_checkpoint, tmp_path / "archive" / f"{made_by}.pt")
        found = track_verify(track=published.track)
        assert found["midi_sha256_match"] is True, found
    finally:
        pipeline.model_bundle.cache_clear()


def test_provenance_is_immutable(published):
    provenance = Provenance.objects.get(track=published.track)
    provenance.record = {**provenance.record, "seed": 0}
    with pytest.raises(ValidationError):
        provenance.save()


def test_the_licence_certificate_verifies_and_a_tampered_one_does_not(published, alice_client, anon_client):
    licence = alice_client.get(f"/api/v1/tracks/{published.track.id}/licence").json()
    good = anon_client.post("/api/v1/licences/verify", {"certificate": licence["certificate"]}, format="json").json()
    assert good["valid"] is True
    tampered = json.loads(json.dumps(licence["certificate"]))
    tampered["claims"]["commercial_use"] = True
    bad = anon_client.post("/api/v1/licences/verify", {"certificate": tampered}, format="json").json()
    assert bad["valid"] is False and bad["reason"]
    key = anon_client.get("/.well-known/cadenza-licence-key").json()
    assert key["alg"] == "Ed25519" and "PUBLIC KEY" in key["public_key_pem"]


def test_the_renditions_carry_c2pa_credentials(published, s3_module):
    from generation.provenance.c2pa_embed import (
        cadenza_assertion,
        digital_source_types,
        read_credentials,
    )

    client, bucket = s3_module
    for rendition in published.track.renditions.all():
        data = client.get_object(Bucket=bucket, Key=rendition.key)["Body"].read()
        store = read_credentials(data, rendition.mime_type)
        assert any("trainedAlgorithmicMedia" in t for t in digital_source_types(store)), rendition.format
        assert cadenza_assertion(store)["provenance_id"] == str(published.track.provenance.id)
    store = read_credentials(data, rendition.mime_type)
    assert any("trainedAlgorithmicMedia" in t for t in digital_source_types(store))
    assert cadenza_assertion(store)["provenance_id"] == str(published.track.provenance.id)


def test_the_measured_attributes_are_what_the_listener_hears(published, alice_client):
    from generation.audio.heard import heard_tempo_and_metre, tempo_matches
    from generation.model.conditioning import Conditioning

    track = alice_client.get(f"/api/v1/tracks/{published.track.id}").json()
    asked = Conditioning.from_vector(published.conditioning)
    measured = track["measured"]
    assert (measured["key_finder"], measured["tempo_from"], measured["metre_from"]) == ("aardenessen", "onsets", "onsets")
    arranged = pretty_midi.PrettyMIDI(io.BytesIO(objects.read_object(published.work["arrangement"]["midi_key"])))
    assert (measured["tempo"], measured["time_signature"]) == heard_tempo_and_metre(arranged)
    # the request's tempo is played (its tempo map), and heard at it or at another metrical level
    # (a slow piano piece in running eighths may be tapped at twice its quarter rate)
    assert arranged.get_tempo_changes()[1][0] == pytest.approx(asked.tempo_bpm, rel=1e-3)
    assert tempo_matches(measured["tempo"], asked.tempo_bpm, levels=True)
    assert published.track.provenance.record["attributes"]["composed"] == published.work["composition"]["measured"]


def test_another_listener_gets_404_for_everything(published, bob_client):
    track_id = published.track.id
    for url in (f"/api/v1/generations/{published.id}", f"/api/v1/tracks/{track_id}",
                f"/api/v1/tracks/{track_id}/midi", f"/api/v1/tracks/{track_id}/provenance",
                f"/api/v1/tracks/{track_id}/licence"):
        assert bob_client.get(url).status_code == 404, url


def test_rerunning_every_phase_of_a_published_job_changes_nothing(published, s3_module):
    client, bucket = s3_module
    before = sorted(item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"])
    for phase in ("compose", "render", "publish"):
        assert jobs.job_run_phase(job_id=str(published.id), phase=phase, owner="another-worker") is None
    after = sorted(item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"])
    assert before == after
    assert Track.objects.filter(job=published).count() == 1


def test_the_sweeper_deletes_only_unreferenced_objects(published, s3_module):
    client, bucket = s3_module
    deleted = objects_sweep(grace=timedelta(0))
    assert deleted and all(key.startswith("work/") for key in deleted)  # intermediate mixes only
    track = published.track
    for key in [r.key for r in track.renditions.all()] + [track.midi_key, track.provenance.storage_key]:
        client.head_object(Bucket=bucket, Key=key)  # still there


def test_the_catalog_rebuilds_from_the_bucket_alone(published, alice):
    track = published.track
    expected = {
        "title": track.title,
        "renditions": sorted(track.renditions.values_list("sha256", flat=True)),
        "record": track.provenance.record,
        "licences": sorted(str(i) for i in track.licences.values_list("id", flat=True)),
    }
    Track.objects.all().delete()
    out = io.StringIO()
    call_command("rebuild_catalog_from_storage", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"tracks": 1, "licences": 1}
    rebuilt = Track.objects.get(id=track.id)
    assert rebuilt.title == expected["title"] and rebuilt.owner == alice
    assert sorted(rebuilt.renditions.values_list("sha256", flat=True)) == expected["renditions"]
    assert rebuilt.provenance.record == expected["record"]
    assert sorted(str(i) for i in Licence.objects.filter(track=rebuilt).values_list("id", flat=True)) == expected["licences"]


def test_a_take_down_removes_objects_revokes_licences_and_keeps_an_audit_record(
        published, charlie, s3_module, alice_client, django_capture_on_commit_callbacks):
    client, bucket = s3_module
    track = published.track
    keys = [r.key for r in track.renditions.all()]
    with django_capture_on_commit_callbacks(execute=True):  # files go once the decision is committed
        track_take_down(track=track, actor=charlie, reason="rights complaint #12")
    track.refresh_from_db()
    assert track.status == TrackStatus.TAKEN_DOWN
    listed = {item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert not listed & set(keys)
    assert all(lic.revoked_at for lic in track.licences.all())
    event = track.review_events.get()
    assert (event.reviewer, event.action, event.reason) == (charlie, "take_down", "rights complaint #12")
    assert alice_client.get(f"/api/v1/tracks/{track.id}").status_code == 404


def test_the_reaper_picks_up_a_job_whose_enqueue_was_lost(s3, pipeline_settings, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # commit happens, the enqueue never runs
        job = generation_request_create(user=alice, overrides=REQUEST)
    assert GenerationJob.objects.get(id=job.id).status == JobStatus.QUEUED
    GenerationJob.objects.filter(id=job.id).update(updated_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.jobs_reap() == [str(job.id)]
    job.refresh_from_db()
    assert job.status == JobStatus.PUBLISHED
    out = io.StringIO()
    call_command("verify_track", str(job.track.id), "--json", stdout=out)
    assert json.loads(out.getvalue())["midi_sha256_match"] is True


def test_a_poison_job_stops_at_the_attempt_limit(s3, pipeline_settings, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = generation_request_create(user=alice, overrides=REQUEST)
    GenerationJob.objects.filter(id=job.id).update(attempts=pipeline_settings.CADENZA_JOB_MAX_ATTEMPTS)
    assert jobs.job_run_phase(job_id=str(job.id), phase="compose", owner="w") is None
    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "attempt_limit")


@pytest.mark.parametrize(("field", "value"), [("style", "polka"), ("tempo", 500), ("key", 12), ("mode", "dorian"),
                                              ("length_s", 5), ("seed", -1), ("colour", "red"),
                                              ("metre", "5/4"), ("metre", 68)])
def test_bad_overrides_name_the_field(alice_client, field, value):
    before = GenerationJob.objects.count()
    response = alice_client.post("/api/v1/generations", {field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert GenerationJob.objects.count() == before


def test_the_metre_can_be_asked_for(alice_client):
    from generation.model.conditioning import Conditioning

    response = alice_client.post("/api/v1/generations", {"metre": "6/8", "tempo": 92, "style": "folk"}, format="json")
    assert response.status_code == 202, response.json()
    job = GenerationJob.objects.get(id=response.json()["id"])
    cond = Conditioning.from_vector(job.conditioning)
    assert (cond.time_signature, cond.tempo_bpm) == ("6/8", 92.0)


def test_approval_puts_the_track_in_the_catalog_with_a_catalog_licence(published, charlie, bob_client):
    from generation.services.tracks import track_review

    track = Track.objects.get(id=published.track.id)  # the shared object in memory saw the take-down
    track_review(track=track, reviewer=charlie, action="approve", reason="lovely")
    assert track.licences.filter(scope="catalog").count() == 1
    catalog = track.licences.get(scope="catalog")
    assert catalog.licence_id == "LicenseRef-Cadenza-Catalog-1.0"
    assert catalog.commercial_use is False  # the debug model's training terms are unknown: fail closed
    assert bob_client.get(f"/api/v1/tracks/{track.id}").status_code == 200  # in the shared catalog now
