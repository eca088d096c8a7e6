"""Input and output shapes of the recommendations API."""

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers

from accounts import vocabulary
from config.api.serializers import StrictSerializer
from generation import objects
from generation.api.serializers import TrackOutput
from generation.services.jobs import progress


class EventBatchInput(StrictSerializer):
    """A batch of events; each event is validated on its own by the service."""

    events = serializers.ListField(
        child=serializers.JSONField(allow_null=True), min_length=1, max_length=vocabulary.MAX_EVENT_BATCH,
        help_text="each item is judged on its own: one that is not an event is rejected in `results`, not the batch"
    )


class EventOutput(serializers.Serializer):
    client_event_id = serializers.UUIDField()
    track = serializers.UUIDField(source="track_id")
    kind = serializers.CharField()
    position_ms = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()


class EventResultOutput(serializers.Serializer):
    index = serializers.IntegerField()
    client_event_id = serializers.JSONField(allow_null=True, help_text="as sent")
    status = serializers.ChoiceField(choices=("accepted", "duplicate", "rejected"))
    field = serializers.CharField(required=False, help_text="rejected: the field at fault")
    reason = serializers.CharField(required=False)


class EventBatchOutput(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = EventResultOutput(many=True)


# ------------------------------------------------------------------------------------------------
# Tracks as the recommender serves them
# ------------------------------------------------------------------------------------------------
class StreamOutput(serializers.Serializer):
    format = serializers.CharField()
    mime_type = serializers.CharField()
    bitrate_kbps = serializers.IntegerField(allow_null=True)
    url = serializers.SerializerMethodField(help_text="short-lived signed URL (HTTP Range)")

    def get_url(self, rendition) -> str:
        return objects.signed_url(rendition.key)


class TrackSummaryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    style = serializers.CharField()
    mood = serializers.SerializerMethodField()
    duration_s = serializers.FloatField()
    status = serializers.CharField()
    tempo = serializers.SerializerMethodField()
    key = serializers.SerializerMethodField(help_text="pitch class, C=0")
    mode = serializers.SerializerMethodField()
    streams = StreamOutput(source="renditions.all", many=True)
    links = serializers.SerializerMethodField()

    def get_mood(self, track) -> str | None:
        try:
            return track.features.mood or None
        except ObjectDoesNotExist:
            return None

    def get_tempo(self, track) -> float | None:
        return (track.measured or {}).get("tempo")

    def get_key(self, track) -> int | None:
        return (track.measured or {}).get("key_tonic")

    def get_mode(self, track) -> str | None:
        return (track.measured or {}).get("mode")

    def get_links(self, track) -> dict[str, str]:
        base = f"/api/v1/tracks/{track.id}"
        return {"track": base, "radio": f"{base}/radio"}


RATING_CHOICES = ("liked", "disliked", "none")
RATING_HELP = "the listener's rating: their latest like, dislike, unlike or undislike of the track"


class TrackDetailOutput(TrackOutput):
    liked = serializers.ChoiceField(choices=RATING_CHOICES, help_text=RATING_HELP)

    class Meta(TrackOutput.Meta):
        fields = (*TrackOutput.Meta.fields, "liked")


class PendingJobOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    progress = serializers.SerializerMethodField(help_text="0-100")
    style = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_progress(self, job) -> int:
        return progress(job.status)

    def get_url(self, job) -> str:
        return f"/api/v1/generations/{job.id}"


class PlaylistItemOutput(serializers.Serializer):
    position = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=("track", "pending"))
    track = TrackSummaryOutput(allow_null=True)
    job = PendingJobOutput(allow_null=True)
    liked = serializers.ChoiceField(choices=RATING_CHOICES, allow_null=True, help_text=f"{RATING_HELP}; null: pending")
    reason = serializers.CharField(help_text="why it is here, in words")
    explore = serializers.BooleanField(help_text="an exploration slot")
    score = serializers.FloatField(allow_null=True)


class PlaylistRefreshInput(StrictSerializer):
    compose_ahead = serializers.BooleanField(default=True, help_text="also compose ahead if it runs short")


class PlaylistOutput(serializers.Serializer):
    version = serializers.IntegerField()
    built_at = serializers.DateTimeField()
    taste_version = serializers.IntegerField()
    items = PlaylistItemOutput(many=True)


# ------------------------------------------------------------------------------------------------
# Taste
# ------------------------------------------------------------------------------------------------
class TasteFeatureOutput(serializers.Serializer):
    name = serializers.CharField()
    words = serializers.CharField()
    weight = serializers.FloatField(help_text="posterior mean")
    prior = serializers.FloatField(help_text="what the stated preferences put there")
    std = serializers.FloatField(help_text="posterior standard deviation")


class TasteMoveOutput(serializers.Serializer):
    feature = serializers.CharField()
    words = serializers.CharField()
    direction = serializers.ChoiceField(choices=("more", "less"))
    change = serializers.FloatField()
    weight = serializers.FloatField()
    prior = serializers.FloatField()
    share_by_kind = serializers.DictField(child=serializers.FloatField(), source="from",
                                          help_text="which kinds of event moved it, as shares")


class TasteChangeEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    track = serializers.UUIDField()
    title = serializers.CharField()


class TasteChangeOutput(serializers.Serializer):
    feature = serializers.CharField()
    change = serializers.FloatField()
    words = serializers.CharField()
    events = TasteChangeEventOutput(many=True)


class TasteVersionOutput(serializers.Serializer):
    version = serializers.IntegerField()
    cause = serializers.CharField()
    created_at = serializers.DateTimeField()
    events_consumed = serializers.IntegerField()
    changes = TasteChangeOutput(many=True)


class TasteOutput(serializers.Serializer):
    version = serializers.IntegerField(help_text="0: never updated (the stated preferences)")
    schema = serializers.CharField()
    events_learned = serializers.IntegerField()
    summary = serializers.CharField()
    features = TasteFeatureOutput(many=True)
    moved = TasteMoveOutput(many=True, help_text="features that moved most from the stated preferences")
    history = TasteVersionOutput(many=True, help_text="recent versions, newest first: what each moved and why")


# ------------------------------------------------------------------------------------------------
# Radio, catalog, saved playlists
# ------------------------------------------------------------------------------------------------
class RadioItemOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=("track", "pending"))
    track = TrackSummaryOutput(allow_null=True)
    job = PendingJobOutput(allow_null=True)
    liked = serializers.ChoiceField(choices=RATING_CHOICES, allow_null=True, help_text=f"{RATING_HELP}; null: pending")
    reason = serializers.CharField()


class RadioQueryInput(serializers.Serializer):
    cursor = serializers.CharField(required=False, max_length=2000)
    page_size = serializers.IntegerField(required=False, default=10, min_value=1, max_value=50)


class RadioPageOutput(serializers.Serializer):
    seed = serializers.UUIDField()
    next = serializers.CharField(help_text="the next page (the station never ends)")
    previous = serializers.CharField(allow_null=True)
    results = RadioItemOutput(many=True)


class SavedPlaylistInput(StrictSerializer):
    name = serializers.CharField(max_length=120)
    tracks = serializers.ListField(child=serializers.UUIDField(), required=False, default=list, max_length=1000)


class SavedPlaylistRenameInput(StrictSerializer):
    name = serializers.CharField(max_length=120)


class SavedPlaylistAddInput(StrictSerializer):
    track = serializers.UUIDField()
    position = serializers.IntegerField(min_value=0, required=False, help_text="default: at the end")


class SavedPlaylistOrderInput(StrictSerializer):
    order = serializers.ListField(child=serializers.IntegerField(min_value=0), max_length=1000,
                                  help_text="the current positions, in the new order")


class SavedItemOutput(serializers.Serializer):
    position = serializers.IntegerField()
    track = TrackSummaryOutput()
    added_at = serializers.DateTimeField()


class SavedPlaylistOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    items = SavedItemOutput(many=True)
