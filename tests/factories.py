"""factory_boy factories for the rows tests need."""

import uuid

import factory
from django.utils import timezone

from accounts.models import PreferenceVersion, User
from generation.models import Track, TrackStatus


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"listener{n}@example.com")
    password = factory.django.Password("correct horse battery staple")
    display_name = factory.Faker("first_name")

    @factory.post_generation
    def preferences(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy's signature
        if create and not obj.preference_versions.exists():
            PreferenceVersion.objects.create(user=obj, version=1)


class TrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Track

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Study no. {n}")
    style = "piano"
    duration_s = 120.0
    status = TrackStatus.PRIVATE


def event_payload(track, **overrides) -> dict:
    """One listening event as the mobile app sends it."""
    return {
        "client_event_id": str(uuid.uuid4()),
        "track": str(track.id),
        "kind": "play",
        "position_ms": 0,
        "occurred_at": timezone.now().isoformat(),
    } | overrides


class PublishedTrackFactory(TrackFactory):
    """A track with the rows publishing writes (provenance, a personal licence, one rendition)."""

    midi_key = "midi/00/00.mid"
    midi_sha256 = "0" * 64
    status = TrackStatus.IN_REVIEW

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def records(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy's signature
        from generation.models import Licence, LicenceScope, Provenance, Rendition

        if not create:
            return
        Rendition.objects.create(track=obj, format="mp3-320", codec="mp3", mime_type="audio/mpeg", bitrate_kbps=320,
                                 key="tracks/00/00.mp3", sha256="0" * 64, size=1, duration_s=obj.duration_s)
        record = {
            "track_id": str(obj.id),
            "model": {"name": "cadenza-test", "version": "0", "checkpoint_sha256": "0" * 64},
            "seed": 1,
            "master": {"lufs": -14.0, "true_peak_dbtp": -1.2},
            "originality": {"verdict": "original", "longest_match_notes": 5, "nearest_piece": "bach/bwv66.6"},
        }
        Provenance.objects.create(track=obj, record=record, record_sha256="0" * 64,
                                  storage_key=f"provenance/{obj.id}.json", id=uuid.uuid4())
        Licence.objects.create(track=obj, licensee=obj.owner, licensee_ref=obj.owner.public_id,
                               licence_id="LicenseRef-Cadenza-Personal-1.0", scope=LicenceScope.PERSONAL,
                               commercial_use=False, attribution="Cadenza", certificate={}, granted_at=timezone.now())


def job_for(user, **fields):
    from generation.models import GenerationJob

    return GenerationJob.objects.create(
        user=user, conditioning_schema="cond-v1", conditioning=[0.0] * 25, style="piano", seed=1, length_s=30.0,
        **fields,
    )
