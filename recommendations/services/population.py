"""The population prior: what listeners in general turn out to like, learned from their stored
tastes (empirical Bayes) and used as the prior of every listener who starts."""

from __future__ import annotations

from django.conf import settings
from django.db.models import OuterRef, Subquery

from recommendations.engine import features as F
from recommendations.engine.taste import PopulationSums, TasteModel
from recommendations.models import PopulationPrior, TasteProfile

BATCH = 500  # profiles read at a time


def _latest_profiles():
    """Every listener's latest taste version of the current schema (state only), streamed."""
    newest = TasteProfile.objects.filter(user_id=OuterRef("user_id")).order_by("-version").values("version")[:1]
    return (TasteProfile.objects.filter(schema=F.SCHEMA, version=Subquery(newest)).order_by("id")
            .values_list("state", flat=True).iterator(chunk_size=BATCH))


def population_prior_recompute(*, min_listeners: int | None = None, min_events: int | None = None) -> PopulationPrior | None:
    """Learn the population prior again from every listener whose latest taste has taken in at
    least ``min_events`` events; a new row when at least ``min_listeners`` qualify, else None
    (listeners keep the current prior, or the default one)."""
    min_listeners = settings.CADENZA_RECS_POPULATION_MIN_LISTENERS if min_listeners is None else min_listeners
    min_events = settings.CADENZA_RECS_POPULATION_MIN_EVENTS if min_events is None else min_events
    sums, events = PopulationSums(), 0
    for state in _latest_profiles():
        if int(state.get("n_events", 0)) < min_events:
            continue
        try:
            model = TasteModel.from_dict(state)
        except ValueError:
            continue
        sums.add(model)
        events += model.n_events
    if sums.n < max(2, min_listeners):
        return None
    row = PopulationPrior.objects.create(schema=F.SCHEMA, state=sums.prior().to_dict(), listeners=sums.n, events=events)
    stale = PopulationPrior.objects.order_by("-id").values_list("id", flat=True)[settings.CADENZA_RECS_POPULATION_KEPT:]
    PopulationPrior.objects.filter(id__in=list(stale)).delete()
    return row
