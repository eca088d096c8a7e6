"""Jobs, tracks and the records that make every track traceable: provenance, licences, review."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    COMPOSING = "composing"
    ARRANGING = "arranging"
    RENDERING = "rendering"
    MASTERING = "mastering"
    ENCODING = "encoding"
    CHECKING = "checking"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    REJECTED = "rejected"


TERMINAL_STATUSES = frozenset({JobStatus.PUBLISHED, JobStatus.FAILED, JobStatus.REJECTED})


class GenerationJob(models.Model):
    """A request to compose one track; moved through its states only by generation.services."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generation_jobs"
    )
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    overrides = models.JSONField(default=dict, blank=True)
    conditioning_schema = models.CharField(max_length=16)
    conditioning = models.JSONField()
    preference_version = models.ForeignKey(
        "accounts.PreferenceVersion", null=True, blank=True, on_delete=models.SET_NULL
    )
    preference_snapshot = models.JSONField(default=dict, blank=True)
    style = models.CharField(max_length=32)
    seed = models.BigIntegerField()
    length_s = models.FloatField()
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    lease_worker = models.CharField(max_length=80, blank=True, help_text="host:pid holding the lease")
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="when its task was handed to the broker (cleared when a phase hands it on)"
    )
    work = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=("status", "updated_at"), name="job_status_updated"),
            models.Index(fields=("user", "-created_at"), name="job_user_recent"),
        ]

    def __str__(self) -> str:
        return f"job {self.id} ({self.status})"


class JobTransition(models.Model):
    """One move of a job from a state to the next, with the attempt that made it."""

    job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=12, choices=JobStatus.choices)
    to_status = models.CharField(max_length=12, choices=JobStatus.choices)
    attempt = models.PositiveSmallIntegerField()
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class TrackStatus(models.TextChoices):
    PRIVATE = "private", "Private to its listener"
    IN_REVIEW = "in_review", "Waiting for review"
    FLAGGED = "flagged", "Flagged for a second review"
    CATALOG = "catalog", "In the shared catalog"
    REJECTED = "rejected", "Rejected by review"
    TAKEN_DOWN = "taken_down", "Taken down"


class Track(models.Model):
    """A published piece: its renditions live in storage, its story in Provenance."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.OneToOneField(
        GenerationJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="track"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tracks",
    )
    title = models.CharField(max_length=120)
    style = models.CharField(max_length=32)
    duration_s = models.FloatField()
    status = models.CharField(max_length=12, choices=TrackStatus.choices, default=TrackStatus.PRIVATE)
    conditioning = models.JSONField(default=list)
    measured = models.JSONField(default=dict)
    midi_key = models.CharField(max_length=120, blank=True)
    midi_sha256 = models.CharField(max_length=64, blank=True)
    piano_roll_key = models.CharField(max_length=120, blank=True)
    waveform_key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=("status", "-created_at"), name="track_status_recent")]
        permissions = [
            ("review_track", "Can decide on tracks in review (approve, reject, flag, take down, restore)"),
        ]

    def __str__(self) -> str:
        return self.title


class Rendition(models.Model):
    """One encoded file of a track, stored under a content-addressed key."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="renditions")
    format = models.CharField(max_length=24)
    codec = models.CharField(max_length=24)
    mime_type = models.CharField(max_length=40)
    bitrate_kbps = models.PositiveIntegerField(null=True, blank=True)
    key = models.CharField(max_length=120)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    duration_s = models.FloatField()

    class Meta:
        ordering = ("track", "-bitrate_kbps")
        constraints = [
            models.UniqueConstraint(fields=("track", "format"), name="rendition_format_unique")
        ]

    def __str__(self) -> str:
        return f"{self.track_id} {self.format}"


class Provenance(models.Model):
    """The full, immutable story of a track (DESIGN.md's provenance record)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    track = models.OneToOneField(Track, on_delete=models.CASCADE, related_name="provenance")
    record = models.JSONField()
    record_sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"provenance {self.id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("A provenance record is immutable once published.")
        super().save(*args, **kwargs)


class LicenceScope(models.TextChoices):
    PERSONAL = "personal_streaming", "Personal streaming"
    CATALOG = "catalog", "Catalog (after review)"


class Licence(models.Model):
    """What the licensee may do with a track, and a certificate anyone can verify offline."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="licences")
    licensee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="licences",
    )
    licensee_ref = models.UUIDField()
    licence_id = models.CharField(max_length=64)
    scope = models.CharField(max_length=24, choices=LicenceScope.choices)
    commercial_use = models.BooleanField()
    attribution = models.TextField()
    territory = models.CharField(max_length=32, default="worldwide")
    certificate = models.JSONField()
    granted_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("track", "licensee_ref", "scope"), name="licence_once_per_scope"
            )
        ]

    def __str__(self) -> str:
        return f"{self.licence_id} for {self.track_id}"


class ReviewAction(models.TextChoices):
    """A reviewer's decision; which states each may move a track from and to is
    ``generation.services.tracks.DECISIONS`` (the one state machine)."""

    APPROVE = "approve", "Approve into the catalog"
    REJECT = "reject", "Reject"
    FLAG = "flag", "Flag for a second review"
    TAKE_DOWN = "take_down", "Take down"
    RESTORE = "restore", "Restore to the review queue"


class ReviewEventQuerySet(models.QuerySet):
    """The audit trail is append-only: no bulk update or delete."""

    def update(self, **kwargs):
        raise ValidationError("Review decisions are immutable.")

    def delete(self):
        raise ValidationError("Review decisions are never deleted.")


class ReviewEvent(models.Model):
    """One decision on a track: who, when, from which state to which, why (never changed or deleted).

    ``track_ref`` and ``reviewer_ref`` are opaque ids that outlive the rows they name.
    """

    track_ref = models.UUIDField(db_index=True)
    track = models.ForeignKey(
        Track, null=True, blank=True, on_delete=models.SET_NULL, related_name="review_events"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    reviewer_ref = models.UUIDField(null=True, blank=True)
    action = models.CharField(max_length=12, choices=ReviewAction.choices)
    from_status = models.CharField(max_length=12, choices=TrackStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=TrackStatus.choices, blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(
        default=dict, blank=True, help_text="what the decision did: objects removed, licences granted or revoked"
    )
    at = models.DateTimeField(auto_now_add=True)

    objects = ReviewEventQuerySet.as_manager()

    class Meta:
        ordering = ("at", "id")
        indexes = [models.Index(fields=("track", "-at"), name="review_track_recent")]

    def __str__(self) -> str:
        return f"{self.action} {self.track_ref}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("Review decisions are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Review decisions are never deleted.")


class ReportReason(models.TextChoices):
    """Why a listener reports a track (a fixed list, so reports can be counted and filtered)."""

    KNOWN_WORK = "known_work", "It copies a piece I know"
    OFFENSIVE = "offensive", "Offensive or inappropriate"
    BROKEN_AUDIO = "broken_audio", "Broken audio (silence, clicks, distortion)"
    MISLABELLED = "mislabelled", "Not what it says (title, style or mood)"
    OTHER = "other", "Something else"


class ReportStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved by a decision"


class TrackReport(models.Model):
    """A listener's report on a track; open until a reviewer's decision resolves it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="track_reports"
    )
    reason = models.CharField(max_length=16, choices=ReportReason.choices)
    note = models.TextField(blank=True, max_length=1000)
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        ReviewEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="resolved_reports"
    )

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("track", "reporter"),
                condition=models.Q(status=ReportStatus.OPEN),
                name="report_one_open_per_listener",
            )
        ]
        indexes = [models.Index(fields=("track", "status"), name="report_track_status")]

    def __str__(self) -> str:
        return f"{self.reason} on {self.track_id}"
