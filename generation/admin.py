"""The review queue: staff listen, look (piano roll, waveform) and approve, reject or take down."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html, format_html_join

from generation import objects
from generation.models import (
    GenerationJob,
    JobTransition,
    Provenance,
    ReviewAction,
    ReviewEvent,
    Track,
    TrackStatus,
)
from generation.services.tracks import track_review, track_take_down


class JobTransitionInline(admin.TabularInline):
    model = JobTransition
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "attempt", "note", "at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(GenerationJob)
class GenerationJobAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "status", "style", "attempts", "error_code", "created_at")
    list_filter = ("status", "style")
    search_fields = ("id", "user__email")
    readonly_fields = [f.name for f in GenerationJob._meta.fields]
    inlines = (JobTransitionInline,)

    def has_add_permission(self, request) -> bool:
        return False


class ReviewEventInline(admin.TabularInline):
    model = ReviewEvent
    fk_name = "track"
    extra = 0
    can_delete = False
    readonly_fields = ("action", "reviewer", "reason", "at")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ("title", "style", "status", "duration", "originality", "created_at")
    list_filter = ("status", "style")
    search_fields = ("title", "id")
    actions = ("approve", "reject", "take_down")
    readonly_fields = ("listen", "piano_roll", "waveform", "attributes", "provenance_summary", "id", "title",
                       "style", "status", "duration_s", "owner", "created_at")
    fields = readonly_fields
    inlines = (ReviewEventInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("provenance").prefetch_related("renditions")

    def has_add_permission(self, request) -> bool:
        return False

    def has_review_permission(self, request) -> bool:
        """Decisions need ``generation.review_track`` (the reviewer group, or a superuser)."""
        return request.user.has_perm("generation.review_track")

    def changelist_view(self, request, extra_context=None):
        """An action this user is not offered is refused with 403 (Django would ignore it)."""
        if request.method == "POST":
            offered = self.get_actions(request)
            if any(name and name not in offered for name in request.POST.getlist("action")):
                raise PermissionDenied
        return super().changelist_view(request, extra_context)

    @admin.display(description="duration")
    def duration(self, track: Track) -> str:
        return f"{int(track.duration_s // 60)}:{int(track.duration_s % 60):02d}"

    @admin.display(description="longest match (notes)")
    def originality(self, track: Track) -> str:
        record = getattr(track, "provenance", None)
        return str(record.record.get("originality", {}).get("longest_match_notes", "—")) if record else "—"

    @admin.display(description="listen")
    def listen(self, track: Track):
        lossy = sorted(track.renditions.all(), key=lambda r: (r.format == "flac", -(r.bitrate_kbps or 0)))
        if not lossy:
            return "no renditions"
        return format_html('<audio controls preload="none" src="{}"></audio>', objects.signed_url(lossy[0].key))

    @admin.display(description="piano roll")
    def piano_roll(self, track: Track):
        if not track.piano_roll_key:
            return "—"
        return format_html('<img src="{}" style="width:100%;max-width:900px" alt="piano roll">', objects.signed_url(track.piano_roll_key))

    @admin.display(description="waveform and loudness")
    def waveform(self, track: Track):
        if not track.waveform_key:
            return "—"
        return format_html('<img src="{}" style="width:100%;max-width:900px" alt="waveform">', objects.signed_url(track.waveform_key))

    @admin.display(description="measured attributes")
    def attributes(self, track: Track):
        return format_html("<pre>{}</pre>", json.dumps(track.measured, indent=1, sort_keys=True))

    @admin.display(description="provenance")
    def provenance_summary(self, track: Track):
        record: Provenance | None = getattr(track, "provenance", None)
        if record is None:
            return "—"
        r = record.record
        model, master, originality = r.get("model", {}), r.get("master", {}), r.get("originality", {})
        rows = [
            ("model", f"{model.get('name')} {model.get('version')} ({str(model.get('checkpoint_sha256'))[:12]}…)"),
            ("seed", r.get("seed")),
            ("loudness", _loudness(master)),
            ("originality", f"{originality.get('verdict')}, {originality.get('longest_match_notes')} notes "
                            f"at most in common with {originality.get('nearest_piece')}"),
            ("provenance id", record.id),
        ]
        return format_html("<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))

    def _review(self, request, queryset, action: str) -> None:
        done = 0
        for track in queryset:
            try:
                if action == ReviewAction.TAKE_DOWN:
                    track_take_down(track=track, actor=request.user, reason="taken down from the review queue")
                else:
                    track_review(track=track, reviewer=request.user, action=action)
                done += 1
            except ValueError as refused:
                self.message_user(request, f"{track}: {refused}", messages.WARNING)
        self.message_user(request, f"{action}: {done} track(s)")

    @admin.action(description="Approve into the catalog", permissions=["review"])
    def approve(self, request, queryset):
        self._review(request, queryset.filter(status__in=[TrackStatus.IN_REVIEW, TrackStatus.REJECTED]), ReviewAction.APPROVE)

    @admin.action(description="Reject", permissions=["review"])
    def reject(self, request, queryset):
        self._review(request, queryset, ReviewAction.REJECT)

    @admin.action(description="Take down (delete objects, revoke licences)", permissions=["review"])
    def take_down(self, request, queryset):
        self._review(request, queryset, ReviewAction.TAKE_DOWN)


@admin.register(ReviewEvent)
class ReviewEventAdmin(admin.ModelAdmin):
    list_display = ("at", "action", "track_ref", "reviewer", "reason")
    list_filter = ("action",)
    readonly_fields = [f.name for f in ReviewEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the audit trail is kept


def _loudness(master: dict) -> str:
    """``-14.0 LUFS, -1.4 dBTP`` (a tenth of a unit is what a reviewer can hear)."""
    lufs, peak = master.get("lufs"), master.get("true_peak_dbtp")
    if lufs is None or peak is None:
        return "—"
    return f"{lufs:.1f} LUFS, {peak:.1f} dBTP"
