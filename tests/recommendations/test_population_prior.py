"""The population prior: what listeners in general turn out to like becomes a newcomer's prior."""

import uuid

import pytest
from django.utils import timezone

from config.celery import app
from recommendations import tasks
from recommendations.models import ListeningEvent, PopulationPrior
from recommendations.services.population import population_prior_recompute
from recommendations.services.taste import taste_update
from tests.factories import UserFactory


def _weights(client) -> dict:
    return {f["name"]: f for f in client.get("/api/v1/me/taste").json()["features"]}


def _listeners_who_learned(catalog, n, *, loved="folk", hated="piano"):
    """n listeners who stated nothing, finished every ``loved`` track and left every ``hated`` one."""
    users = []
    for i in range(n):
        user = UserFactory(email=f"listener{i}@example.com")
        now = timezone.now()
        for t in catalog:
            if t.style in (loved, hated):
                ListeningEvent.objects.create(
                    user=user, client_event_id=uuid.uuid4(), track=t, occurred_at=now,
                    kind="complete" if t.style == loved else "skip",
                    position_ms=int(t.duration_s * 1000) if t.style == loved else 1000)
        taste_update(user=user)
        users.append(user)
    return users


@pytest.fixture
def population(settings, catalog):
    settings.CADENZA_RECS_POPULATION_MIN_LISTENERS = 8
    settings.CADENZA_RECS_POPULATION_MIN_EVENTS = 3
    return _listeners_who_learned(catalog, 8)


def test_a_newcomer_starts_from_what_listeners_in_general_turned_out_to_like(population, alice_client, catalog):
    assert _weights(alice_client)["style_folk"]["prior"] == 0.0
    row = population_prior_recompute()
    assert row.listeners == 8 and row.events == 8 * sum(t.style in ("folk", "piano") for t in catalog)
    w = _weights(alice_client)
    assert w["style_folk"]["prior"] > 0.1 > -0.1 > w["style_piano"]["prior"]
    assert w["style_folk"]["weight"] == w["style_folk"]["prior"]  # nothing learned of her yet
    assert w["style_folk"]["std"] < 0.35  # surer than the default prior's spread
    first = alice_client.get("/api/v1/me/playlist").json()["items"][0]
    assert first["track"]["style"] == "folk"


def test_stated_preferences_still_move_the_prior_over_the_population(population, alice_client):
    population_prior_recompute()
    alice_client.patch("/api/v1/me/preferences", {"styles": ["cinematic"]}, format="json")
    w = _weights(alice_client)
    assert w["style_cinematic"]["prior"] > 0.2 and w["style_folk"]["prior"] > 0


def test_a_listener_keeps_their_prior_until_they_reset(population, alice, alice_client, catalog, listen):
    from tests.recommendations.conftest import complete

    listen(alice_client, [complete(catalog[0])])
    before = _weights(alice_client)["style_folk"]["prior"]
    population_prior_recompute()
    assert _weights(alice_client)["style_folk"]["prior"] == before
    alice_client.delete("/api/v1/me/taste")
    assert _weights(alice_client)["style_folk"]["prior"] > before + 0.1


def test_it_needs_enough_learned_listeners(population, settings, alice_client):
    settings.CADENZA_RECS_POPULATION_MIN_LISTENERS = 9
    assert population_prior_recompute() is None
    settings.CADENZA_RECS_POPULATION_MIN_LISTENERS = 8
    settings.CADENZA_RECS_POPULATION_MIN_EVENTS = 10  # each has learned from 9
    assert population_prior_recompute() is None
    assert not PopulationPrior.objects.exists()
    assert _weights(alice_client)["style_folk"]["prior"] == 0.0


def test_erased_listeners_drop_out_at_the_next_recomputation(population):
    population_prior_recompute()
    population[0].delete()
    assert population_prior_recompute() is None  # 7 left: below the minimum, the last row stays
    assert PopulationPrior.objects.count() == 1


def test_beat_recomputes_it_and_old_rows_are_pruned(population, settings):
    settings.CADENZA_RECS_POPULATION_KEPT = 2
    assert app.conf.beat_schedule["population-prior"]["task"] == "recommendations.tasks.population_prior_recompute"
    ids = [tasks.population_prior_recompute.delay().get() for _ in range(3)]
    assert list(PopulationPrior.objects.values_list("id", flat=True)) == ids[:0:-1]
