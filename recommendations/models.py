"""What listeners did (events), what the recommender learned (taste) and what it serves (playlists)."""

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
