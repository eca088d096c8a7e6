"""What happens after listening: learn from the events, rebuild the playlist, compose ahead."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts.models import PreferenceVersion, User
from accounts.selectors import preferences_current_id
from generation.models import TERMINAL_STATUSES
from recommendations import selectors
from recommendations.models import ListeningEvent, PersonalPlaylist
from recommendations.services.compose import compose_ahead
from recommendations.services.playlists import playlist_current, playlist_rebuild
from recommendations.services.taste import taste_catch_up


def compose_ahead_enqueue(*, user_id: int) -> None:
    """After commit, compose ahead for the listener in a task of its own."""
    from recommendations import tasks

    transaction.on_commit(lambda: tasks.compose_ahead.delay(user_id))


def listening_digest(*, user: User) -> PersonalPlaylist:
    """After an events batch: update the taste from every new event, rebuild the playlist, and
    (with workers: CADENZA_RECS_COMPOSE_AHEAD_ON_EVENTS) compose ahead in a task of its own.
    Nothing new since the last build (a digest that came late): nothing to do."""
    learned = taste_catch_up(user=user)
    playlist = PersonalPlaylist.objects.filter(user=user).first()
    if not learned and playlist is not None and playlist.events_through >= selectors.latest_event_id(user=user):
        return playlist
    playlist = playlist_rebuild(user=user)
    if settings.CADENZA_RECS_COMPOSE_AHEAD_ON_EVENTS:
        compose_ahead_enqueue(user_id=user.pk)
    return playlist


def listening_digest_enqueue(*, user_id: int) -> None:
    """After an events batch commits: the digest, in a task of its own. With
    CADENZA_RECS_DIGEST_DEBOUNCE_S (the embedded default, where the task runs inside the events
    request) at most one per listener per that many seconds; the next read catches up."""
    from recommendations import tasks

    debounce = settings.CADENZA_RECS_DIGEST_DEBOUNCE_S
    if debounce and not cache.add(f"recommendations:digest:{user_id}", 1, timeout=debounce):
        return
    transaction.on_commit(lambda: tasks.listening_digest.delay(user_id))


def playlist_for_reading(*, user: User) -> tuple[PersonalPlaylist, PreferenceVersion | None]:
    """GET /me/playlist: the materialised playlist and the preferences it answers to, after
    catching up on events a debounced digest left (embedded default only; one query otherwise)."""
    latest = ListeningEvent.objects.filter(user=OuterRef("user")).order_by("-id").values("id")[:1]
    playlist = (PersonalPlaylist.objects.filter(user=user).select_related("preference_version")
                .annotate(latest_event=Subquery(latest), current_preferences=preferences_current_id()).first())
    if (settings.CADENZA_RECS_DIGEST_DEBOUNCE_S and playlist is not None
            and (playlist.latest_event or 0) > playlist.events_through):
        playlist = listening_digest(user=user)
    elif playlist is not None and playlist.preference_version_id == playlist.current_preferences:
        return playlist, playlist.preference_version  # built for the current preferences
    return playlist_current(user=user, playlist=playlist)


def catch_up_if_behind(*, user: User) -> None:
    """Before serving what was learned: if events were left to a debounced digest, digest now."""
    if not settings.CADENZA_RECS_DIGEST_DEBOUNCE_S:
        return  # every batch has its digest (workers)
    built = PersonalPlaylist.objects.filter(user=user).values_list("events_through", flat=True).first()
    if built is not None and selectors.latest_event_id(user=user) > built:
        listening_digest(user=user)


def playlist_is_stale(*, playlist: PersonalPlaylist | None) -> bool:
    """A playlist to rebuild: none yet, a job it shows as pending has finished, the preferences
    changed, or events came after it was built."""
    if playlist is None:
        return True
    if playlist.items.filter(job__isnull=False, job__status__in=TERMINAL_STATUSES).exists():
        return True
    current = playlist.user.preference_versions.order_by("-version").values_list("id", flat=True).first()
    if current != playlist.preference_version_id:
        return True
    return ListeningEvent.objects.filter(user_id=playlist.user_id, received_at__gt=playlist.built_at).exists()


def playlist_top_up(*, user: User) -> PersonalPlaylist:
    """Beat's per-listener refill: rebuild a stale playlist, then compose ahead if it runs short."""
    playlist = PersonalPlaylist.objects.filter(user=user).select_related("user").first()
    if playlist_is_stale(playlist=playlist):
        taste_catch_up(user=user)
        playlist = playlist_rebuild(user=user)
    compose_ahead(user=user)
    return playlist


def active_listener_ids() -> list[int]:
    """Listeners who sent events in the last CADENZA_RECS_ACTIVE_MINUTES."""
    since = timezone.now() - timedelta(minutes=settings.CADENZA_RECS_ACTIVE_MINUTES)
    return sorted(set(ListeningEvent.objects.filter(received_at__gte=since).values_list("user_id", flat=True)))


def playlists_refill() -> list[int]:
    """Periodic (beat): a top-up task for every active listener, ahead of the end of their track."""
    from recommendations import tasks

    ids = active_listener_ids()
    for user_id in ids:
        tasks.playlist_top_up.delay(user_id)
    return ids
