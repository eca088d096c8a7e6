"""Input and output shapes of the generation API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.vocabulary import KEY_MODES, LENGTH_RANGE_S, MOODS, STYLES, TEMPO_RANGE
from config.api.serializers import StrictSerializer
from generation import objects
from generation.model.vocab import TIME_SIGNATURES
from generation.models import GenerationJob, LicenceScope, ReportReason, Track, TrackReport
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


# ------------------------------------------------------------------------------------------------
# Typed documents inside a track or a job (JSON columns, written by the pipeline)
# ------------------------------------------------------------------------------------------------
@extend_schema_field({"type": "array", "items": {"oneOf": [{"type": "integer"}, {"type": "boolean"}]},
                      "minItems": 2, "maxItems": 2})
class ProgramAndDrumField(serializers.JSONField):
    """``[program, is_drum]``: a GM program number (0-127) and whether the part is drums."""


class MeasuredOutput(serializers.Serializer):
    """What was measured on the arrangement as played (``generation.audio.heard``); a value that
    could not be measured is null."""

    tempo = serializers.FloatField(allow_null=True, help_text="beats per minute, from the onsets")
    key_tonic = serializers.IntegerField(allow_null=True, help_text="pitch class, C=0")
    mode = serializers.CharField(allow_null=True, help_text="major or minor")
    time_signature = serializers.CharField(
        allow_null=True, help_text='e.g. "6/8", as heard from the onsets (older tracks: the MIDI\'s)')
    density = serializers.FloatField(allow_null=True, help_text="notes per beat")
    density_bucket = serializers.IntegerField(allow_null=True)
    pitch_min = serializers.IntegerField(allow_null=True, help_text="MIDI note number")
    pitch_max = serializers.IntegerField(allow_null=True, help_text="MIDI note number")
    pitch_mean = serializers.FloatField(allow_null=True)
    polyphony = serializers.FloatField(allow_null=True, help_text="notes sounding at once, on average")
    length_bars = serializers.IntegerField(allow_null=True)
    n_notes = serializers.IntegerField(allow_null=True)
    instruments = serializers.ListField(child=ProgramAndDrumField(), help_text="[GM program, is_drum] of each part")
    families = serializers.ListField(child=serializers.CharField(), help_text="instrument families heard")
    key_finder = serializers.CharField(required=False, help_text="how the key was found (newer tracks)")
    tempo_from = serializers.CharField(required=False, help_text="where the tempo was read from (newer tracks)")
    metre_from = serializers.CharField(required=False, help_text="where the metre was read from (newer tracks)")


class LicenceSummaryOutput(serializers.Serializer):
    licence_id = serializers.CharField(help_text="SPDX identifier or LicenseRef-…")
    scope = serializers.ChoiceField(choices=LicenceScope.choices)
    commercial_use = serializers.BooleanField()
    revoked = serializers.BooleanField()


class TrackLinksOutput(serializers.Serializer):
    midi = serializers.CharField(help_text="302 to a signed URL of the MIDI")
    provenance = serializers.CharField()
    licence = serializers.CharField()


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
    measured = serializers.SerializerMethodField()
    conditioning = serializers.ListField(child=serializers.FloatField(), help_text="the cond-vN vector it was composed under")
    licence = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = Track
        fields = ("id", "title", "duration_s", "style", "status", "measured", "conditioning", "created_at",
                  "renditions", "licence", "links")
        read_only_fields = fields

    @extend_schema_field(MeasuredOutput(allow_null=True))
    def get_measured(self, track: Track) -> dict | None:
        return track.measured or None  # null: not measured (a track made before measurements)

    @extend_schema_field(LicenceSummaryOutput(allow_null=True))
    def get_licence(self, track: Track) -> dict | None:
        from generation.selectors import licence_for

        licence = licence_for(user=self.context["request"].user, track=track)
        if licence is None:
            return None
        return {"licence_id": licence.licence_id, "scope": licence.scope, "commercial_use": licence.commercial_use,
                "revoked": licence.revoked_at is not None}

    @extend_schema_field(TrackLinksOutput)
    def get_links(self, track: Track) -> dict[str, str]:
        base = f"/api/v1/tracks/{track.id}"
        return {"midi": f"{base}/midi", "provenance": f"{base}/provenance", "licence": f"{base}/licence"}


class OverridesOutput(serializers.Serializer):
    """The overrides the job was asked with (only those given are present)."""

    style = serializers.CharField(required=False)
    mood = serializers.CharField(required=False)
    tempo = serializers.IntegerField(required=False)
    key = serializers.IntegerField(required=False, help_text="pitch class, C=0")
    mode = serializers.CharField(required=False)
    metre = serializers.CharField(required=False)
    length_s = serializers.IntegerField(required=False)
    seed = serializers.IntegerField(required=False)


class JobRequestOutput(serializers.Serializer):
    """The request the job runs: planned from the preferences, overrides applied."""

    schema = serializers.CharField(help_text="conditioning schema, cond-vN")
    style = serializers.CharField()
    mood = serializers.CharField(allow_null=True)
    length_s = serializers.FloatField()
    avoid_instruments = serializers.ListField(child=serializers.CharField())


class JobErrorOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class JobTrackOutput(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    url = serializers.CharField(help_text="the track's API URL")


class JobOutput(serializers.ModelSerializer):
    stage = serializers.CharField(source="status")
    progress = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    track = serializers.SerializerMethodField()
    request = serializers.SerializerMethodField()
    overrides = OverridesOutput()
    conditioning = serializers.ListField(child=serializers.FloatField())

    class Meta:
        model = GenerationJob
        fields = ("id", "status", "stage", "progress", "style", "seed", "length_s", "overrides", "request",
                  "conditioning_schema", "conditioning", "error", "track", "created_at", "updated_at")
        read_only_fields = fields

    def get_progress(self, job: GenerationJob) -> int:
        return progress(job.status)

    @extend_schema_field(JobErrorOutput(allow_null=True))
    def get_error(self, job: GenerationJob) -> dict | None:
        return {"code": job.error_code, "message": job.error_message} if job.error_code else None

    @extend_schema_field(JobRequestOutput(allow_null=True))
    def get_request(self, job: GenerationJob) -> dict | None:
        request = job.work.get("request")
        return {k: v for k, v in request.items() if k != "vector"} if request else None

    @extend_schema_field(JobTrackOutput(allow_null=True))
    def get_track(self, job: GenerationJob) -> dict | None:
        track = getattr(job, "track", None)
        if track is None:
            return None
        return {"id": str(track.id), "title": track.title, "url": f"/api/v1/tracks/{track.id}"}


class QuotaOutput(serializers.Serializer):
    """The daily generation quota: a rolling window; each POST /generations takes one unit."""

    limit = serializers.IntegerField(help_text="units per window")
    used = serializers.IntegerField(help_text="jobs created in the window")
    remaining = serializers.IntegerField(help_text="units left now")
    window_s = serializers.IntegerField(help_text="the window's length in seconds (a rolling day)")
    next_unit_at = serializers.DateTimeField(allow_null=True, help_text="when the oldest unit used leaves the window")
    retry_after_s = serializers.IntegerField(help_text="0 while units are left; else seconds until one frees")


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
        read_only_fields = fields


# ------------------------------------------------------------------------------------------------
# Licences, provenance, styles
# ------------------------------------------------------------------------------------------------
class LicenceTrackClaimsOutput(serializers.Serializer):
    id = serializers.CharField()
    renditions_sha256 = serializers.DictField(child=serializers.CharField(), help_text="format → sha256")
    midi_sha256 = serializers.CharField()


class GeneratorOutput(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()


class AiDisclosureOutput(serializers.Serializer):
    digital_source_type = serializers.CharField(help_text="IPTC digital source type URI (trainedAlgorithmicMedia)")
    generator = GeneratorOutput()


class LicenceClaimsOutput(serializers.Serializer):
    """The signed licence record (``generation.provenance.licence.build_licence_claims``)."""

    schema = serializers.CharField()
    licence_uuid = serializers.UUIDField()
    licence_id = serializers.CharField()
    scope = serializers.ChoiceField(choices=LicenceScope.choices)
    commercial_use = serializers.BooleanField()
    licensor = serializers.CharField()
    licensee_ref = serializers.UUIDField(help_text="opaque id of the licensee (never a name or address)")
    attribution = serializers.CharField()
    territory = serializers.CharField()
    granted_at = serializers.CharField(help_text="UTC, ISO 8601")
    track = LicenceTrackClaimsOutput()
    ai_disclosure = AiDisclosureOutput()


class CertificateOutput(serializers.Serializer):
    """A licence certificate: verify it offline with /.well-known/cadenza-licence-key."""

    claims = LicenceClaimsOutput()
    alg = serializers.CharField(help_text="Ed25519")
    key_id = serializers.CharField()
    signature = serializers.CharField(help_text="base64url, no padding")


class LicenceOutput(serializers.Serializer):
    id = serializers.UUIDField()
    licence_id = serializers.CharField()
    scope = serializers.ChoiceField(choices=LicenceScope.choices)
    commercial_use = serializers.BooleanField()
    attribution = serializers.CharField()
    territory = serializers.CharField()
    granted_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    certificate = CertificateOutput()


class LicenceVerifyOutput(serializers.Serializer):
    valid = serializers.BooleanField()
    reason = serializers.CharField(help_text="why not, or what was checked")


class LicenceKeyOutput(serializers.Serializer):
    alg = serializers.CharField()
    key_id = serializers.CharField()
    public_key_pem = serializers.CharField()
    canonicalisation = serializers.CharField()


class StyleOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    families = serializers.ListField(child=serializers.CharField())
    has_drums = serializers.BooleanField()
    reverb = serializers.FloatField()
    tempo_bpm = serializers.ListField(child=serializers.IntegerField(), help_text="[lowest, highest]")
    swing = serializers.FloatField()


class StylesOutput(serializers.Serializer):
    results = StyleOutput(many=True)


class ReviewEventOutput(serializers.Serializer):
    action = serializers.CharField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class ProvenanceModelOutput(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    checkpoint_sha256 = serializers.CharField()


class ConditioningRecordOutput(serializers.Serializer):
    schema = serializers.CharField()
    vector = serializers.ListField(child=serializers.FloatField())


class RequestedAttributesOutput(serializers.Serializer):
    """What the conditioning vector asked for."""

    tempo_bpm = serializers.FloatField()
    key_tonic = serializers.IntegerField()
    mode = serializers.CharField()
    time_signature = serializers.CharField()
    density = serializers.FloatField()
    length_bars = serializers.IntegerField()
    families = serializers.ListField(child=serializers.CharField())


class OriginalityOutput(serializers.Serializer):
    """The nearest piece of the training corpus, and how long the longest shared passage is."""

    verdict = serializers.ChoiceField(choices=("original", "too_close"))
    longest_match_notes = serializers.IntegerField()
    longest_match_intervals = serializers.IntegerField(required=False)
    nearest_piece = serializers.CharField(allow_null=True)


class ProvenanceRenditionOutput(serializers.Serializer):
    format = serializers.CharField()
    codec = serializers.CharField()
    mime_type = serializers.CharField()
    bitrate_kbps = serializers.IntegerField(allow_null=True)
    key = serializers.CharField(help_text="content-addressed object key")
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    duration_s = serializers.FloatField()


class AttributesRecordOutput(serializers.Serializer):
    requested = RequestedAttributesOutput()
    measured = MeasuredOutput(help_text="the arrangement as played")
    composed = serializers.DictField(help_text="the composition before arranging")


class ProvenanceOutput(serializers.Serializer):
    """The provenance record (``cadenza.provenance.v1``): from it the MIDI regenerates byte for
    byte. The parts named here are in every record; nested documents keep the pipeline's words."""

    schema = serializers.CharField()
    provenance_id = serializers.UUIDField()
    track_id = serializers.UUIDField()
    job_id = serializers.UUIDField()
    requester = serializers.CharField(help_text="opaque id (erasure orphans it)")
    created_at = serializers.CharField()
    title = serializers.CharField()
    model = ProvenanceModelOutput()
    code_version = serializers.CharField()
    seed = serializers.IntegerField()
    sampling = serializers.DictField()
    conditioning = ConditioningRecordOutput()
    preference_snapshot = serializers.DictField()
    overrides = serializers.DictField()
    request = serializers.DictField()
    attributes = AttributesRecordOutput()
    arrangement = serializers.DictField()
    soundfont = serializers.DictField()
    content_credentials = serializers.DictField()
    mix = serializers.DictField()
    master = serializers.DictField(help_text="loudness (LUFS) and true peak (dBTP) measured")
    renditions = ProvenanceRenditionOutput(many=True, help_text="each also says its container, encoder, decoded checks, C2PA")
    midi = serializers.DictField()
    originality = OriginalityOutput()
    gates = serializers.DictField()
    pictures = serializers.DictField(child=serializers.CharField())
    review_history = ReviewEventOutput(many=True)
    record_sha256 = serializers.CharField()
