"""The generation API: jobs, tracks, provenance, licences. Views parse and render; services decide."""

from __future__ import annotations

import mimetypes
import re

from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import conditional
from config.api.errors import error_body
from config.api.schema import ErrorResponse
from generation import objects, selectors
from generation.api import serializers as s
from generation.services import jobs, licences, reports


class GenerationsApi(generics.ListAPIView):
    """GET: the listener's generation jobs. (POST, which plans what to compose, is served by
    recommendations' subclass on the same URL: generation takes ready requests only.)"""

    serializer_class = s.JobOutput
    throttle_scope = "generations"

    def get_queryset(self):
        return selectors.jobs_for(user=self.request.user)


class GenerationDetailApi(APIView):
    """One job: status, stage, progress, error, and the track once published. Polled: throttled
    in a scope of its own (``THROTTLE_GENERATION_POLL``), not with the list and POST."""

    throttle_scope = "generation_poll"

    @extend_schema(responses={200: s.JobOutput})
    def get(self, request, pk):
        return Response(s.JobOutput(selectors.job_get(user=request.user, job_id=pk)).data)


class TracksApi(generics.ListAPIView):
    """The listener's own tracks, newest first."""

    serializer_class = s.TrackOutput

    def get_queryset(self):
        return selectors.tracks_visible_to(user=self.request.user).filter(owner=self.request.user).prefetch_related(
            "renditions", "licences"
        )


class TrackDetailApi(APIView):
    """A track: attributes, renditions with signed URLs, licence summary and links."""

    @extend_schema(parameters=[conditional.IF_NONE_MATCH], responses=conditional.responses(s.TrackOutput))
    def get(self, request, pk):
        track = selectors.track_get(user=request.user, track_id=pk)
        return conditional.respond(request, self.track_body(request, track), signed_urls=True)

    def track_body(self, request, track) -> dict:
        """The body served (recommendations' subclass adds the listener's rating)."""
        return s.TrackOutput(track, context={"request": request}).data


class TrackMidiApi(APIView):
    """Redirect to a signed URL of the track's MIDI."""

    @extend_schema(responses={302: None})
    def get(self, request, pk):
        track = selectors.track_get(user=request.user, track_id=pk)
        return HttpResponseRedirect(objects.signed_url(track.midi_key, filename=f"{track.id}.mid"))


class TrackProvenanceApi(APIView):
    """The full provenance record, with the review history as it stands."""

    @extend_schema(responses={200: s.ProvenanceOutput})
    def get(self, request, pk):
        track = selectors.track_get(user=request.user, track_id=pk)
        history = [
            {"action": e.action, "reason": e.reason, "at": e.at.isoformat()} for e in track.review_events.all()
        ]
        return Response({**track.provenance.record, "review_history": history, "record_sha256": track.provenance.record_sha256})


class TrackLicenceApi(APIView):
    """The caller's licence for the track, with its certificate."""

    @extend_schema(responses={200: s.LicenceOutput})
    def get(self, request, pk):
        track = selectors.track_get(user=request.user, track_id=pk)
        licence = selectors.licence_for(user=request.user, track=track)
        if licence is None:
            raise Http404
        return Response(
            {
                "id": str(licence.id),
                "licence_id": licence.licence_id,
                "scope": licence.scope,
                "commercial_use": licence.commercial_use,
                "attribution": licence.attribution,
                "territory": licence.territory,
                "granted_at": licence.granted_at.isoformat(),
                "revoked_at": licence.revoked_at.isoformat() if licence.revoked_at else None,
                "certificate": licence.certificate,
            }
        )


class TrackReportApi(APIView):
    """Report a track to the review team (one open report per listener per track)."""

    throttle_scope = "reports"

    @extend_schema(request=s.ReportInput, responses={201: s.ReportOutput, 409: ErrorResponse()})
    def post(self, request, pk):
        track = selectors.track_get(user=request.user, track_id=pk)
        data = s.ReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            report = reports.track_report_create(track=track, reporter=request.user, **data.validated_data)
        except reports.AlreadyReported as already:
            return Response(error_body("already_reported", str(already)), status=status.HTTP_409_CONFLICT)
        return Response(s.ReportOutput(report).data, status=status.HTTP_201_CREATED)


class StylesApi(APIView):
    """The arrangement styles a listener can choose from."""

    permission_classes = (AllowAny,)

    @extend_schema(parameters=[conditional.IF_NONE_MATCH], responses=conditional.responses(s.StylesOutput))
    def get(self, request):
        from generation.audio.styles import STYLES

        return conditional.respond(request, {"results": [style.as_dict() for style in STYLES.values()]})


class QuotaApi(APIView):
    """How much of the daily generation quota the listener has used and has left."""

    @extend_schema(responses={200: s.QuotaOutput})
    def get(self, request):
        quota = jobs.quota_status(user=request.user)
        body = {"limit": quota.limit, "used": quota.used, "remaining": quota.remaining, "window_s": quota.window_s,
                "next_unit_at": quota.next_unit_at, "retry_after_s": quota.retry_after_s(timezone.now())}
        return Response(s.QuotaOutput(body).data)


class LicenceVerifyApi(APIView):
    """Check a licence certificate against the service's key."""

    permission_classes = (AllowAny,)

    @extend_schema(request=s.LicenceVerifyInput, responses={200: s.LicenceVerifyOutput})
    def post(self, request):
        data = s.LicenceVerifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = licences.certificate_verify(certificate=data.validated_data["certificate"])
        return Response({"valid": result.valid, "reason": result.reason})


class LicenceKeyApi(APIView):
    """The public key that verifies licence certificates offline."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(operation_id="licence_key_retrieve", responses={200: s.LicenceKeyOutput})
    def get(self, request):
        return Response(licences.public_key_document())


RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


def signed_object(request, token: str):
    """Embedded default only: serve a local object named by a signed, expiring token, with Range."""
    try:
        key, life_left = objects.unsign_local_url_with_life(token)
    except signing.BadSignature:
        return HttpResponse(status=403)
    response = _object_response(request, key)
    if response.status_code in (200, 206):
        # a cache may keep the bytes, for this listener only, no longer than the URL lives
        response["Cache-Control"] = f"private, max-age={life_left}"
    return response


def _object_response(request, key: str):
    """The object's bytes, or the range of them the request asks for."""
    if not default_storage.exists(key):
        raise Http404
    size = default_storage.size(key)
    content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    match = RANGE.match(request.headers.get("Range", ""))
    if not match or not any(match.groups()):
        response = FileResponse(default_storage.open(key, "rb"), content_type=content_type)
        response["Accept-Ranges"] = "bytes"
        return response
    start_s, end_s = match.groups()
    start = int(start_s) if start_s else max(0, size - int(end_s))
    end = min(int(end_s), size - 1) if start_s and end_s else size - 1
    if start >= size or start > end:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    with default_storage.open(key, "rb") as handle:
        handle.seek(start)
        body = handle.read(end - start + 1)
    response = HttpResponse(body, status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    return response
