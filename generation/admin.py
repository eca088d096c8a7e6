"""The review queue: staff listen, look at the evidence and decide (approve, reject, flag, take down, restore).

Decisions need ``generation.review_track`` (the ``reviewer`` group); view-only staff see the
evidence and no decision. Each decision, single or in bulk, goes through a confirmation page
that asks for the reason and says what will happen, then ``generation.services.tracks.track_decide``
(the one state machine) does it and records it. Tracks are never hard-deleted here: take-down
replaces deletion.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, IntegerField, Q
from django.db.models.functions import Cast
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.vocabulary import MOODS
from generation import objects
from generation.models import (
    GenerationJob,
    JobTransition,
    LicenceScope,
    Provenance,
    ReportReason,
    ReportStatus,
    ReviewAction,
    ReviewEvent,
    Track,
    TrackReport,
    TrackStatus,
)
from generation.services import evidence
from generation.services.tracks import (
    DECISIONS,
    DecisionRefused,
    decision_plan,
    decisions_allowed,
    track_decide,
    tracks_phrase,
)

KEY_NAMES = ("C", "D♭", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B")


# ------------------------------------------------------------------------------------------------
# Small renderers shared by the pages
# ------------------------------------------------------------------------------------------------
def _table(head: tuple[str, ...], rows, empty: str = "—"):
    if not rows:
        return empty
    return format_html(
        '<table class="review-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
        format_html_join("", "<th>{}</th>", ((h,) for h in head)),
        format_html_join("", "<tr>" + "<td>{}</td>" * len(head) + "</tr>", rows),
    )


def _person(user, ref) -> str:
    return user.email if user is not None else f"erased account {str(ref or '')[:8]}"


def _track_link(track_id, title: str | None = None):
    if track_id is None:
        return "—"
    url = reverse("admin:generation_track_change", args=[track_id])
    return format_html('<a href="{}">{}</a>', url, title or str(track_id))


def _status_badge(status: str):
    return format_html('<span class="track-status status-{}">{}</span>', status, TrackStatus(status).label)


def _removed(track: Track) -> str | None:
    """For a taken-down track: when and by whom its objects were removed, in words."""
    if track.status != TrackStatus.TAKEN_DOWN:
        return None
    event = track.review_events.filter(action=ReviewAction.TAKE_DOWN).order_by("-at").first()
    if event is None:
        return "Taken down: its stored files were removed."
    files = len(event.details.get("objects_removed", []))
    return (f"Taken down {event.at:%Y-%m-%d %H:%M} by {_person(event.reviewer, event.reviewer_ref)}: "
            f"its {files} stored file(s) were removed.")


def _mood(track: Track) -> str:
    record = getattr(track, "provenance", None)
    return (record.record.get("request", {}).get("mood") if record else None) or "—"


def _key_name(tonic, mode) -> str:
    if tonic is None:
        return "—"
    return f"{KEY_NAMES[int(tonic) % 12]} {mode or ''}".strip()


def _fmt(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


# ------------------------------------------------------------------------------------------------
# Job pages
# ------------------------------------------------------------------------------------------------
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
    readonly_fields = ("track_link", *[f.name for f in GenerationJob._meta.fields])
    inlines = (JobTransitionInline,)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # jobs move only through generation.services.jobs

    @admin.display(description="track")
    def track_link(self, job: GenerationJob):
        track = Track.objects.filter(job=job).only("id", "title").first()
        return _track_link(track.id, track.title) if track else "not published"


# ------------------------------------------------------------------------------------------------
# The queue's filters
# ------------------------------------------------------------------------------------------------
class QueueFilter(admin.SimpleListFilter):
    """Status, opening on what waits for a decision (in review or flagged for a second review)."""

    title = "status"
    parameter_name = "status"
    WAITING, ALL = "waiting", "all"

    def lookups(self, request, model_admin):
        return [(self.WAITING, "Waiting for a decision (in review or flagged)"), *TrackStatus.choices,
                (self.ALL, "All")]

    def value(self):
        return super().value() or self.WAITING

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.ALL:
            return queryset
        if value == self.WAITING:
            return queryset.filter(status__in=(TrackStatus.IN_REVIEW, TrackStatus.FLAGGED))
        return queryset.filter(status=value) if value in TrackStatus.values else queryset.none()

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {"selected": self.value() == lookup, "display": title,
                   "query_string": changelist.get_query_string({self.parameter_name: lookup})}


class RecordFilter(admin.SimpleListFilter):
    """A filter on a value of the provenance record (``lookup`` under ``provenance__record__``)."""

    lookup = ""

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(**{f"provenance__record__{self.lookup}": self.value()})


class MoodFilter(RecordFilter):
    title, parameter_name, lookup = "mood", "mood", "request__mood"

    def lookups(self, request, model_admin):
        return [(mood, mood) for mood in MOODS]


class VerdictFilter(RecordFilter):
    title, parameter_name, lookup = "originality verdict", "verdict", "originality__verdict"

    def lookups(self, request, model_admin):
        found = Provenance.objects.values_list("record__originality__verdict", flat=True).distinct()
        return [(v, v.replace("_", " ")) for v in sorted({"original", "too_close", *(v for v in found if v)})]


class GateFilter(admin.SimpleListFilter):
    title, parameter_name = "quality gates", "gates"
    CHOICES = {"failed": Q(provenance__record__gates__passed=False),
               "passed": Q(provenance__record__gates__passed=True),
               "missing": Q(provenance__record__gates__passed__isnull=True) | Q(provenance__isnull=True)}

    def lookups(self, request, model_admin):
        return [("failed", "failed a gate"), ("passed", "passed every gate"), ("missing", "no gate record")]

    def queryset(self, request, queryset):
        return queryset.filter(self.CHOICES[self.value()]) if self.value() in self.CHOICES else queryset


class ReportedFilter(admin.SimpleListFilter):
    title, parameter_name = "listener reports", "reported"

    def lookups(self, request, model_admin):
        return [("open", "has open reports"), ("ever", "reported at least once"), ("never", "never reported")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(open_reports__gt=0)
        if self.value() == "ever":
            return queryset.filter(reports__isnull=False).distinct()
        if self.value() == "never":
            return queryset.filter(reports__isnull=True)
        return queryset


# ------------------------------------------------------------------------------------------------
# Tracks: the queue and the track page
# ------------------------------------------------------------------------------------------------
def _decision_action(action: str):
    def run(modeladmin, request, queryset):
        return modeladmin.decision_page(request, list(queryset), action, next_url=request.get_full_path())

    run.__name__ = action
    return admin.action(description=f"{DECISIONS[action].label}…", permissions=["review"])(run)


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ("title", "status_badge", "listen_small", "style_and_mood", "duration", "originality_score",
                    "open_report_count", "published")
    list_display_links = ("title",)
    list_filter = (QueueFilter, "style", MoodFilter, GateFilter, VerdictFilter, ReportedFilter,
                   ("created_at", admin.DateFieldListFilter))
    search_fields = ("title", "id", "job__id")
    search_help_text = "Search by title, track id or job id."
    ordering = ("-created_at",)
    list_per_page = 50
    actions = [_decision_action(action) for action in DECISIONS]
    change_form_template = "admin/generation/track/change_form.html"
    fieldsets = (
        (None, {"fields": ("summary", "listen", "links")}),
        ("Decisions, newest first", {"fields": ("decision_history",)}),
        ("Listener reports", {"fields": ("report_list",)}),
        ("Requested and measured", {"fields": ("attributes_compared",)}),
        ("Quality gates and loudness", {"fields": ("gate_results", "loudness_per_rendition")}),
        ("Originality", {"fields": ("originality_evidence",)}),
        ("Pictures", {"fields": ("piano_roll", "waveform")}),
        ("Licences", {"fields": ("licence_list",)}),
        ("Provenance", {"fields": ("provenance_summary", "provenance_record")}),
    )
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]

    # --- permissions ---------------------------------------------------------------------------
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the page is evidence; status moves only through decisions

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # take-down replaces deletion and leaves an audit record

    def has_review_permission(self, request) -> bool:
        """Decisions need ``generation.review_track`` (the reviewer group, or a superuser)."""
        return request.user.has_perm("generation.review_track")

    def changelist_view(self, request, extra_context=None):
        """An action this user is not offered is refused with 403 (Django would ignore it)."""
        if request.method == "POST":
            offered = self.get_actions(request)
            if any(name and name not in offered for name in request.POST.getlist("action")):
                raise PermissionDenied
        # the queue is wide (player, evidence columns, filters): it gets the whole width
        context = {"title": "Review queue", "is_nav_sidebar_enabled": False, **(extra_context or {})}
        return super().changelist_view(request, context)

    def get_queryset(self, request):
        return (
            super().get_queryset(request)
            .select_related("provenance", "job")
            .prefetch_related("renditions", "licences")
            .annotate(
                open_reports=Count("reports", filter=Q(reports__status=ReportStatus.OPEN), distinct=True),
                originality_notes=Cast(F("provenance__record__originality__longest_match_notes"), IntegerField()),
            )
        )

    # --- queue columns -------------------------------------------------------------------------
    @admin.display(description="status", ordering="status")
    def status_badge(self, track: Track):
        return _status_badge(track.status)

    @admin.display(description="listen")
    def listen_small(self, track: Track):
        return self._audio(track, compact=True)

    @admin.display(description="style · mood", ordering="style")
    def style_and_mood(self, track: Track) -> str:
        return f"{track.style} · {_mood(track)}"

    @admin.display(description="published", ordering="created_at")
    def published(self, track: Track) -> str:
        return f"{track.created_at:%Y-%m-%d}"

    @admin.display(description="duration", ordering="duration_s")
    def duration(self, track: Track) -> str:
        return f"{int(track.duration_s // 60)}:{int(track.duration_s % 60):02d}"

    @admin.display(description="originality", ordering="originality_notes")
    def originality_score(self, track: Track) -> str:
        """The verdict and the longest run of notes shared with a known piece (sorts by the run)."""
        record = getattr(track, "provenance", None)
        verdict = (record.record.get("originality", {}).get("verdict") if record else None) or "—"
        notes = f" ({track.originality_notes} notes)" if track.originality_notes else ""
        return f"{verdict.replace('_', ' ')}{notes}"

    @admin.display(description="reports", ordering="open_reports")
    def open_report_count(self, track: Track):
        if not track.open_reports:
            return "—"
        url = reverse("admin:generation_trackreport_changelist") + f"?track__id__exact={track.id}"
        return format_html('<a class="reports-count" href="{}">{}</a>', url, track.open_reports)

    # --- the track page ------------------------------------------------------------------------
    @admin.display(description="track")
    def summary(self, track: Track):
        rows = [("status", _status_badge(track.status)), ("title", track.title), ("id", track.id),
                ("style · mood", self.style_and_mood(track)), ("duration", self.duration(track)),
                ("listener", f"listener {str(track.owner.public_id)[:8]}" if track.owner else "erased account"),
                ("published", f"{track.created_at:%Y-%m-%d %H:%M}")]
        return format_html('<table class="review-table">{}</table>',
                           format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))

    @admin.display(description="listen")
    def listen(self, track: Track):
        return self._audio(track, compact=False)

    def _audio(self, track: Track, *, compact: bool):
        removed = _removed(track)
        if removed:
            return "removed" if compact else removed
        lossy = sorted(track.renditions.all(), key=lambda r: (r.format == "flac", -(r.bitrate_kbps or 0)))
        if not lossy:
            return "no renditions"
        return format_html('<audio controls preload="none" class="{}" src="{}" data-track="{}"></audio>',
                           "listen-small" if compact else "listen", objects.signed_url(lossy[0].key), track.id)

    @admin.display(description="links")
    def links(self, track: Track):
        items = []
        if track.job_id:
            items.append(format_html('<a href="{}">generation job {}</a>',
                                     reverse("admin:generation_generationjob_change", args=[track.job_id]),
                                     str(track.job_id)[:8]))
        items.append(format_html('<a href="{}">all decisions on this track</a>',
                                 reverse("admin:generation_reviewevent_changelist") + f"?track_ref={track.id}"))
        return format_html_join(" · ", "{}", ((item,) for item in items))

    @admin.display(description="history")
    def decision_history(self, track: Track):
        rows = [(f"{e.at:%Y-%m-%d %H:%M}", ReviewAction(e.action).label,
                 format_html("{} → {}", _label(e.from_status), _label(e.to_status)),
                 _person(e.reviewer, e.reviewer_ref), e.reason or "—", _details(e.details))
                for e in track.review_events.select_related("reviewer").order_by("-at", "-id")]
        return _table(("when", "decision", "status", "reviewer", "reason", "what it did"), rows,
                      empty="No decision yet.")

    @admin.display(description="reports")
    def report_list(self, track: Track):
        rows = [(f"{r.created_at:%Y-%m-%d %H:%M}", ReportReason(r.reason).label, r.note or "—",
                 ReportStatus(r.status).label, f"listener {str(r.reporter.public_id)[:8]}")
                for r in track.reports.select_related("reporter")]
        return _table(("when", "reason", "note", "status", "from"), rows, empty="No listener has reported it.")

    @admin.display(description="attributes")
    def attributes_compared(self, track: Track):
        record = getattr(track, "provenance", None)
        requested = record.record.get("attributes", {}).get("requested", {}) if record else {}
        heard = track.measured or {}
        rows = [
            ("tempo (BPM)", _fmt(requested.get("tempo_bpm")), _fmt(heard.get("tempo"))),
            ("key", _key_name(requested.get("key_tonic"), requested.get("mode")),
             _key_name(heard.get("key_tonic"), heard.get("mode"))),
            ("metre", _fmt(requested.get("time_signature")), _fmt(heard.get("time_signature"))),
            ("density (notes/beat)", _fmt(requested.get("density")), _fmt(heard.get("density"))),
            ("length (bars)", _fmt(requested.get("length_bars")), _fmt(heard.get("length_bars"))),
            ("instrument families", _fmt(requested.get("families")), _fmt(heard.get("families"))),
            ("polyphony", _fmt(requested.get("polyphony")), _fmt(heard.get("polyphony"))),
        ]
        return _table(("attribute", "requested", "measured"), rows)

    @admin.display(description="gates")
    def gate_results(self, track: Track):
        record = getattr(track, "provenance", None)
        gates = record.record.get("gates", {}) if record else {}
        if not gates:
            return "No gate record."
        failures = {code: reason for code, reason in gates.get("failures", [])}
        verdict = "passed every gate" if gates.get("passed") and not failures else "FAILED: " + "; ".join(
            f"{c}: {r}" for c, r in failures.items())
        rows = [(name.replace("_", " "), _fmt(value)) for name, value in sorted(gates.get("measurements", {}).items())]
        return format_html("<p><strong>{}</strong></p>{}", verdict, _table(("measurement", "value"), rows))

    @admin.display(description="loudness per rendition")
    def loudness_per_rendition(self, track: Track):
        return _removed(track) or _lazy(track, "loudness", "Measuring every stored rendition…")

    @admin.display(description="originality")
    def originality_evidence(self, track: Track):
        record = getattr(track, "provenance", None)
        found = record.record.get("originality", {}) if record else {}
        rows = [("verdict", (found.get("verdict") or "—").replace("_", " ")),
                ("longest match", f"{found['longest_match_notes']} notes" if found.get("longest_match_notes") else "—"),
                ("nearest known piece", found.get("nearest_piece") or "—")]
        table = format_html('<table class="review-table">{}</table>',
                            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))
        if not found.get("nearest_piece"):
            return table
        return format_html("{}{}", table, _removed(track) or _lazy(track, "passage", "Finding the matching passage…"))

    def evidence_view(self, request, pk, name: str):
        """The slow evidence of a track page as an HTML fragment (measured once, then cached)."""
        track = self.get_object(request, str(pk)) if name in EVIDENCE else None
        if track is None:
            raise Http404
        if not self.has_view_permission(request, track):
            raise PermissionDenied
        return HttpResponse(EVIDENCE[name](track))

    @admin.display(description="piano roll")
    def piano_roll(self, track: Track):
        return self._picture(track, track.piano_roll_key, "piano roll")

    @admin.display(description="waveform and loudness")
    def waveform(self, track: Track):
        return self._picture(track, track.waveform_key, "waveform")

    def _picture(self, track: Track, key: str, alt: str):
        removed = _removed(track)
        if removed:
            return removed
        if not key:
            return "—"
        return format_html('<img class="evidence" src="{}" alt="{}">', objects.signed_url(key), alt)

    @admin.display(description="licences")
    def licence_list(self, track: Track):
        rows = [(lic.licence_id, LicenceScope(lic.scope).label, "yes" if lic.commercial_use else "no",
                 f"listener {str(lic.licensee_ref)[:8]}", f"{lic.granted_at:%Y-%m-%d %H:%M}",
                 f"revoked {lic.revoked_at:%Y-%m-%d %H:%M}" if lic.revoked_at else "valid")
                for lic in sorted(track.licences.all(), key=lambda lic: lic.granted_at)]
        return _table(("licence", "scope", "commercial use", "licensee", "granted", "state"), rows)

    @admin.display(description="summary")
    def provenance_summary(self, track: Track):
        record: Provenance | None = getattr(track, "provenance", None)
        if record is None:
            return "—"
        r = record.record
        model, master = r.get("model", {}), r.get("master", {})
        soundfont = r.get("soundfont", {})
        rows = [
            ("model", f"{model.get('name')} {model.get('version')} ({str(model.get('checkpoint_sha256'))[:12]}…)"),
            ("training data", _fmt((model.get("training_data") or {}).get("collections"))),
            ("seed", r.get("seed")),
            ("soundfont", f"{soundfont.get('name', '—')} ({soundfont.get('licence', '—')})"),
            ("master", _loudness(master)),
            ("code version", str(r.get("code_version", "—"))[:12]),
            ("provenance id", record.id),
            ("record sha256", record.record_sha256),
        ]
        return format_html('<table class="review-table">{}</table>',
                           format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))

    @admin.display(description="record")
    def provenance_record(self, track: Track):
        record: Provenance | None = getattr(track, "provenance", None)
        if record is None:
            return "—"
        return format_html("<details><summary>the full provenance record (JSON)</summary><pre>{}</pre></details>",
                           json.dumps(record.record, indent=1, sort_keys=True))

    # --- decisions -----------------------------------------------------------------------------
    def get_urls(self):
        decide = self.admin_site.admin_view(self.decide_view)
        fragment = self.admin_site.admin_view(self.evidence_view)
        return [path("decide/<str:action>/", decide, name="generation_track_decide"),
                path("<uuid:pk>/evidence/<str:name>/", fragment, name="generation_track_evidence"),
                *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        track = self.get_object(request, object_id)
        context = {**(extra_context or {}), "decisions": []}
        if track is not None and self.has_review_permission(request):
            here = request.get_full_path()
            context["decisions"] = [
                {"label": d.label, "action": d.action,
                 "url": reverse("admin:generation_track_decide", args=[d.action]) + "?" + urlencode(
                     {"ids": track.pk, "next": here})}
                for d in decisions_allowed(track)
            ]
        return super().change_view(request, object_id, form_url, context)

    def decide_view(self, request, action: str):
        """GET: the confirmation page for ``ids``. POST: take the decision on each, then go back."""
        if not self.has_review_permission(request):
            raise PermissionDenied
        if action not in DECISIONS:
            raise Http404
        data = request.POST if request.method == "POST" else request.GET
        ids = [i for value in data.getlist("ids") for i in value.split(",") if i]
        tracks = list(self.get_queryset(request).filter(pk__in=ids)) if ids else []
        next_url = data.get("next") or reverse("admin:generation_track_changelist")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("admin:generation_track_changelist")
        if not tracks:
            self.message_user(request, "No track selected.", messages.WARNING)
            return HttpResponseRedirect(next_url)
        if request.method != "POST" or data.get("confirm") != "yes":
            return self.decision_page(request, tracks, action, next_url=next_url)
        reason = data.get("reason", "").strip()
        if DECISIONS[action].reason_required and not reason:
            return self.decision_page(request, tracks, action, next_url=next_url,
                                      error="Give the reason: it is kept with the decision.")
        done = 0
        for track in tracks:
            try:
                track_decide(track=track, reviewer=request.user, action=action, reason=reason)
                done += 1
            except DecisionRefused as refused:
                self.message_user(request, str(refused), messages.WARNING)
        if done:
            self.message_user(request, DECISIONS[action].done.format(tracks=tracks_phrase(done)), messages.SUCCESS)
        return HttpResponseRedirect(next_url)

    def decision_page(self, request, tracks: list[Track], action: str, *, next_url: str, error: str = ""):
        if not self.has_review_permission(request):
            raise PermissionDenied
        decision = DECISIONS[action]
        plans = [decision_plan(track=track, action=action) for track in tracks]
        movable = [p for p in plans if not p.refusal]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{decision.label}: {tracks_phrase(len(movable))}?",
            "decision": decision,
            "target_label": TrackStatus(decision.target).label,
            "movable": movable,
            "refused": [p for p in plans if p.refusal],
            "ids": ",".join(str(p.track.pk) for p in movable),
            "next_url": next_url,
            "reason": request.POST.get("reason", ""),
            "error": error,
            "form_url": reverse("admin:generation_track_decide", args=[action]),
            "confirm_label": f"Yes, {decision.verb} {tracks_phrase(len(movable))}",
            "danger": decision.target in (TrackStatus.REJECTED, TrackStatus.TAKEN_DOWN),
        }
        return TemplateResponse(request, "admin/generation/track/decide.html", context)


def _lazy(track: Track, name: str, waiting: str):
    """A placeholder the track page fills from ``evidence_view`` (so the page opens at once)."""
    url = reverse("admin:generation_track_evidence", args=[track.pk, name])
    return format_html('<div class="lazy-evidence" data-src="{}">{}</div>', url, waiting)


def _loudness_fragment(track: Track):
    rows = [(f"{r.format}" + (f" ({r.bitrate_kbps} kbps)" if r.bitrate_kbps else ""),
             "—" if r.lufs is None else f"{r.lufs:.1f} LUFS",
             "—" if r.true_peak_dbtp is None else f"{r.true_peak_dbtp:.1f} dBTP", r.source)
            for r in evidence.rendition_loudness(track=track)]
    return _table(("rendition", "integrated loudness", "true peak", "source"), rows, empty="No rendition.")


def _passage_fragment(track: Track):
    found = evidence.originality_evidence(track=track)
    if not found.png:
        return format_html("<p>{}</p>", found.note or "no passage")
    picture = base64.b64encode(found.png).decode()
    return format_html('<p class="passage-bars">Matching passage: bars {}–{} ({}); {}</p>'
                       '<img class="passage" src="data:image/png;base64,{}" alt="the matching passage: this track '
                       'and {} drawn together">', found.first_bar, found.last_bar, found.part, found.note, picture,
                       found.nearest_piece)


EVIDENCE = {"loudness": _loudness_fragment, "passage": _passage_fragment}


def _label(status: str) -> str:
    return TrackStatus(status).label if status else "—"


def _details(details: dict):
    parts = []
    for key, words in (("licences_granted", "licence(s) granted"), ("licences_reinstated", "licence(s) reinstated"),
                       ("licences_revoked", "licence(s) revoked"), ("objects_removed", "file(s) removed"),
                       ("reports_resolved", "report(s) resolved")):
        value = details.get(key)
        count = len(value) if isinstance(value, list) else value
        if count:
            parts.append(f"{count} {words}")
    return "; ".join(parts) or "—"


# ------------------------------------------------------------------------------------------------
# The audit trail and the reports, read-only
# ------------------------------------------------------------------------------------------------
@admin.register(ReviewEvent)
class ReviewEventAdmin(admin.ModelAdmin):
    list_display = ("at", "track_title", "action", "change", "reviewer_name", "reason")
    list_filter = ("action", "to_status", ("at", admin.DateFieldListFilter))
    search_fields = ("track__title", "track_ref", "reason")
    ordering = ("-at", "-id")
    list_select_related = ("track", "reviewer")
    fields = ("at", "track_title", "action", "change", "reviewer_name", "reason", "what_it_did")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # decisions are immutable

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the audit trail is kept

    @admin.display(description="track", ordering="track__title")
    def track_title(self, event: ReviewEvent):
        return _track_link(event.track_id, event.track.title) if event.track else f"deleted track {event.track_ref}"

    @admin.display(description="status")
    def change(self, event: ReviewEvent):
        return format_html("{} → {}", _label(event.from_status), _label(event.to_status))

    @admin.display(description="reviewer", ordering="reviewer__email")
    def reviewer_name(self, event: ReviewEvent) -> str:
        return _person(event.reviewer, event.reviewer_ref)

    @admin.display(description="what it did")
    def what_it_did(self, event: ReviewEvent):
        return _details(event.details)


@admin.register(TrackReport)
class TrackReportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "track_title", "track_status", "reason", "note", "status")
    list_filter = ("status", "reason", ("created_at", admin.DateFieldListFilter))
    search_fields = ("track__title", "=track__id", "note")
    list_select_related = ("track",)
    fields = ("created_at", "track_title", "track_status", "reason", "note", "status", "resolution")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a decision on the track resolves its reports

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="track", ordering="track__title")
    def track_title(self, report: TrackReport):
        return _track_link(report.track_id, report.track.title)

    @admin.display(description="track status")
    def track_status(self, report: TrackReport):
        return _status_badge(report.track.status)

    @admin.display(description="resolved by")
    def resolution(self, report: TrackReport) -> str:
        event = report.resolved_by
        if event is None:
            return "open"
        return f"{ReviewAction(event.action).label} by {_person(event.reviewer, event.reviewer_ref)}, {event.at:%Y-%m-%d}"


def _loudness(master: dict) -> str:
    """``-14.0 LUFS, -1.4 dBTP`` (a tenth of a unit is what a reviewer can hear)."""
    lufs, peak = master.get("lufs"), master.get("true_peak_dbtp")
    if lufs is None or peak is None:
        return "—"
    return f"{lufs:.1f} LUFS, {peak:.1f} dBTP"
