"""The recommendations API: one small class per operation; services decide, views parse and render."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from config.api.errors import error_body
from config.api.pagination import NewestFirstCursorPagination
from generation.api import serializers as generation_serializers
from generation.api import views as generation_views
from generation.services.jobs import QuotaExceeded
from recommendations import selectors
from recommendations.api import serializers as s
from recommendations.services import events as event_services
from recommendations.services.generations import generation_request_create


class EventCursorPagination(NewestFirstCursorPagination):
    ordering = ("-occurred_at", "-id")


class EventsApi(generics.ListAPIView):
    """GET: the listener's events, newest first. POST: a batch of up to 500 events from the app."""

    serializer_class = s.EventOutput
    pagination_class = EventCursorPagination
    throttle_scope = "events"

    def get_queryset(self):
        return selectors.events_for(user=self.request.user)

    @extend_schema(request=s.EventBatchInput, responses={200: s.EventBatchOutput})
    def post(self, request):
        data = s.EventBatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        results = event_services.events_ingest(user=request.user, raw_events=data.validated_data["events"])
        counts = {state: sum(r["status"] == state for r in results) for state in ("accepted", "duplicate", "rejected")}
        return Response({**counts, "results": results})


class GenerationsApi(generation_views.GenerationsApi):
    """GET: the listener's generation jobs. POST: compose a new track (202 with the job); what is
    not overridden is planned from the listener's preferences."""

    @extend_schema(request=generation_serializers.GenerationInput,
                   responses={202: generation_serializers.JobOutput, 429: dict})
    def post(self, request):
        data = generation_serializers.GenerationInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job = generation_request_create(user=request.user, overrides=data.validated_data)
        except QuotaExceeded as exceeded:
            return Response(error_body("quota_exceeded", str(exceeded)), status=status.HTTP_429_TOO_MANY_REQUESTS)
        except ValueError as invalid:
            field, _, reason = str(invalid).partition(": ")
            return Response(error_body("invalid", str(invalid), {field: [reason or str(invalid)]}), status=400)
        job.refresh_from_db()
        return Response(generation_serializers.JobOutput(job).data, status=status.HTTP_202_ACCEPTED)
