"""The recommendations API: one small class per operation; services decide, views parse and render."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response

from config.api.pagination import NewestFirstCursorPagination
from recommendations import selectors
from recommendations.api import serializers as s
from recommendations.services import events as event_services


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
