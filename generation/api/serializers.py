"""Input and output shapes of the generation API."""

from __future__ import annotations

from rest_framework import serializers

from accounts.vocabulary import KEY_MODES, LENGTH_RANGE_S, MOODS, STYLES, TEMPO_RANGE
from config.api.serializers import StrictSerializer
from generation import objects
from generation.model.vocab import TIME_SIGNATURES
from generation.models import GenerationJob, ReportReason, Track, TrackReport
from generation.services.jobs import progress


class GenerationInput(StrictSerializer):
    """Optional overrides; anything left out is drawn from the listener's preferences."""

    style = serializers.ChoiceField(choices=STYLES, required=False)
    mood = serializers.ChoiceField(choices=MOODS, required=False)
    tempo = serializers.IntegerField(min_value=TEMPO_RANGE[0], max_value=TEMPO_RANGE[1], required=False)
    key = serializers.IntegerField(min_value=0, max_value=11, required=False, help_text="pitch class, C=0")
    mode = serializers.ChoiceField(choices=KEY_MODES, required=False)
    metre = serializers.ChoiceField(choices=TIME_SIGNATURES, required=False,
                                    help_text="time signature, e.g. \"6/8\" (the metres the model knows)")
    length_s = serializers.IntegerField(min_value=LENGTH_RANGE_S[0], max_value=LENGTH_RANGE_S[1], required=False)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)


class RenditionOutput(serializers.Serializer):
    format = serializers.CharField()
    codec = serializers.CharField()
    mime_type = serializers.CharField()
    bitrate_kbps = serializers.IntegerField(allow_null=True)
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    duration_s = serializers.FloatField()
    url = serializers.SerializerMethodField()

    def get_url(self, rendition) -> str:
        return objects.signed_url(rendition.key)


class TrackOutput(serializers.ModelSerializer):
    renditions = RenditionOutput(many=True)
    licence = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = Track
        fields = ("id", "title", "duration_s", "style", "status", "measured", "conditioning", "created_at",
                  "renditions", "licence", "links")

    def get_licence(self, track: Track) -> dict | None:
        from generation.selectors import licence_for

        licence = licence_for(user=self.context["request"].user, track=track)
        if licence is None:
            return None
        return {"licence_id": licence.licence_id, "scope": licence.scope, "commercial_use": licence.commercial_use,
                "revoked": licence.revoked_at is not None}

    def get_links(self, track: Track) -> dict[str, str]:
        base = f"/api/v1/tracks/{track.id}"
        return {"midi": f"{base}/midi", "provenance": f"{base}/provenance", "licence": f"{base}/licence"}


class JobOutput(serializers.ModelSerializer):
    stage = serializers.CharField(source="status")
    progress = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    track = serializers.SerializerMethodField()
    request = serializers.SerializerMethodField()

    class Meta:
        model = GenerationJob
        fields = ("id", "status", "stage", "progress", "style", "seed", "length_s", "overrides", "request",
                  "conditioning_schema", "conditioning", "error", "track", "created_at", "updated_at")

    def get_progress(self, job: GenerationJob) -> int:
        return progress(job.status)

    def get_error(self, job: GenerationJob) -> dict | None:
        return {"code": job.error_code, "message": job.error_message} if job.error_code else None

    def get_request(self, job: GenerationJob) -> dict:
        return {k: v for k, v in job.work.get("request", {}).items() if k != "vector"}

    def get_track(self, job: GenerationJob) -> dict | None:
        track = getattr(job, "track", None)
        if track is None:
            return None
        return {"id": str(track.id), "title": track.title, "url": f"/api/v1/tracks/{track.id}"}


class LicenceVerifyInput(StrictSerializer):
    certificate = serializers.DictField(help_text="a certificate as GET /tracks/{id}/licence returns it")


class ReportInput(StrictSerializer):
    """Why the listener reports the track: a reason from the list, and optionally a note."""

    reason = serializers.ChoiceField(choices=ReportReason.choices)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ReportOutput(serializers.ModelSerializer):
    track = serializers.UUIDField(source="track_id")

    class Meta:
        model = TrackReport
        fields = ("id", "track", "reason", "note", "status", "created_at")
