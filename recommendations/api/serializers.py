"""Input and output shapes of the recommendations API."""

from rest_framework import serializers

from accounts import vocabulary
from config.api.serializers import StrictSerializer


class EventBatchInput(StrictSerializer):
    """A batch of events; each event is validated on its own by the service."""

    events = serializers.ListField(
        child=serializers.JSONField(), min_length=1, max_length=vocabulary.MAX_EVENT_BATCH
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
