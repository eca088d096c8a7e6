"""What listeners did (events), what the recommender learned (taste) and what it serves (playlists)."""

import uuid

from django.conf import settings
from django.db import models


class EventKind(models.TextChoices):
    PLAY = "play"
    PROGRESS = "progress"
    COMPLETE = "complete"
    SKIP = "skip"
    LIKE = "like"
    DISLIKE = "dislike"
    SAVE = "save"
    UNLIKE = "unlike"  # takes a like back: the track is neither liked nor disliked
    UNDISLIKE = "undislike"  # takes a dislike back


# The kinds that set a listener's rating of a track; the latest one (by occurred_at) decides it.
RATING_KINDS = {
    EventKind.LIKE: "liked",
    EventKind.DISLIKE: "disliked",
    EventKind.UNLIKE: "none",
    EventKind.UNDISLIKE: "none",
}


class ListeningEvent(models.Model):
    """Something a listener did with a track, as the app reported it (possibly late, from offline)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listening_events"
    )
    client_event_id = models.UUIDField()
    track = models.ForeignKey("generation.Track", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    position_ms = models.PositiveIntegerField(default=0)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("user", "client_event_id"), name="listening_event_idempotency"
            ),
        ]
        indexes = [models.Index(fields=("user", "-occurred_at"), name="event_user_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.track_id}"


class TasteCause(models.TextChoices):
    PRIOR = "prior", "From the stated preferences (cold start)"
    EVENTS = "events", "Updated from listening events"
    RESET = "reset", "Reset to the stated preferences"


class TasteProfile(models.Model):
    """One version of what the recommender learned a listener likes; never edited: each update
    writes the next version. ``state`` is ``engine.taste.TasteModel.to_dict()``; ``events_through``
    is the highest ListeningEvent id this version has taken in (later events are still to come);
    ``changes`` says which features this version moved and which events moved them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="taste_profiles")
    version = models.PositiveIntegerField()
    schema = models.CharField(max_length=16)
    state = models.JSONField()
    cause = models.CharField(max_length=8, choices=TasteCause.choices)
    preference_version = models.ForeignKey(
        "accounts.PreferenceVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    events_through = models.BigIntegerField(default=0)
    events_consumed = models.PositiveIntegerField(default=0)
    changes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("user", "-version")
        constraints = [models.UniqueConstraint(fields=("user", "version"), name="taste_version_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} taste v{self.version}"


class PopulationPrior(models.Model):
    """What listeners in general turn out to like: the mean and covariance of stored listeners'
    tastes beyond what they stated (``engine.taste.PopulationSums``), recomputed periodically
    and used as the prior of every listener who starts (cold start, reset, changed preferences).
    An aggregate over at least CADENZA_RECS_POPULATION_MIN_LISTENERS listeners: no personal row,
    and an erased listener drops out of it at the next recomputation."""

    schema = models.CharField(max_length=16)
    state = models.JSONField(help_text="engine.taste.TasteModel.to_dict() of the prior")
    listeners = models.PositiveIntegerField()
    events = models.PositiveBigIntegerField(help_text="events the listeners' models had learned from")
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-id",)

    def __str__(self) -> str:
        return f"population prior #{self.pk} ({self.listeners} listeners)"


class TrackFeatures(models.Model):
    """A track's feature vector (``schema``, float32 little-endian bytes), computed once from its
    measured attributes, style, mood and length. ``families`` is a bit mask over
    generation.gm.ALL_FAMILIES (what the track sounds with), for the avoided-instrument rule.
    The auto id grows with every row, so a process can load only the rows it has not seen."""

    track = models.OneToOneField("generation.Track", on_delete=models.CASCADE, related_name="features")
    schema = models.CharField(max_length=16)
    vector = models.BinaryField()
    families = models.PositiveIntegerField(default=0)
    mood = models.CharField(max_length=16, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.schema} of {self.track_id}"


class PersonalPlaylist(models.Model):
    """A listener's playlist, materialised: rebuilt on events, refresh, new tracks and changed
    preferences, read at once by GET /api/v1/me/playlist."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_playlist")
    version = models.PositiveIntegerField(default=0)
    built_at = models.DateTimeField()
    taste_version = models.PositiveIntegerField(default=0)
    preference_version = models.ForeignKey(
        "accounts.PreferenceVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ready_good_fit = models.PositiveSmallIntegerField(default=0, help_text="unplayed good-fit tracks at build")
    events_through = models.BigIntegerField(default=0, help_text="the listener's latest event at build")

    def __str__(self) -> str:
        return f"playlist of {self.user_id} v{self.version}"


class PlaylistItem(models.Model):
    """One slot: a track (with why it is here), or a track being composed (its job)."""

    playlist = models.ForeignKey(PersonalPlaylist, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    track = models.ForeignKey("generation.Track", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(
        "generation.GenerationJob", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    score = models.FloatField(default=0.0)
    explore = models.BooleanField(default=False)
    reason = models.CharField(max_length=200)
    families = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True, help_text="the track as served (recommendations.snapshots)")

    class Meta:
        ordering = ("playlist", "position")
        constraints = [
            models.UniqueConstraint(fields=("playlist", "position"), name="playlist_position_unique"),
            models.CheckConstraint(
                condition=models.Q(track__isnull=False) | models.Q(job__isnull=False), name="playlist_item_track_or_job"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.playlist_id}#{self.position}"


class SavedPlaylist(models.Model):
    """A playlist a listener made and named."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_playlists")
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class SavedPlaylistItem(models.Model):
    playlist = models.ForeignKey(SavedPlaylist, on_delete=models.CASCADE, related_name="items")
    track = models.ForeignKey("generation.Track", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("playlist", "position")
        constraints = [
            models.UniqueConstraint(fields=("playlist", "position"), name="saved_playlist_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.playlist_id}#{self.position}"
