"""Celery tasks: each loads a listener by id and calls one service (queue ``recommend``)."""

from __future__ import annotations

from celery import shared_task

from accounts.models import User
from recommendations.services import compose, listening, population


def _user(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()  # erased meanwhile: nothing to do


@shared_task(acks_late=True)
def listening_digest(user_id: int) -> int | None:
    """After an events batch: taste update, playlist rebuild."""
    user = _user(user_id)
    return listening.listening_digest(user=user).version if user else None


@shared_task(acks_late=True)
def compose_ahead(user_id: int) -> list[str]:
    """Enqueue generation jobs when the playlist runs short."""
    user = _user(user_id)
    return [str(job.id) for job in compose.compose_ahead(user=user)] if user else []


@shared_task(acks_late=True)
def playlist_top_up(user_id: int) -> int | None:
    """Beat's per-listener refill."""
    user = _user(user_id)
    return listening.playlist_top_up(user=user).version if user else None


@shared_task
def playlists_refill() -> list[int]:
    """Periodic: top up every active listener."""
    return listening.playlists_refill()


@shared_task
def population_prior_recompute() -> int | None:
    """Periodic: learn the population prior again from every listener's taste."""
    row = population.population_prior_recompute()
    return row.pk if row else None
