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
