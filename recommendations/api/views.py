"""The recommendations API: one small class per operation; services decide, views parse and render."""

from urllib.parse import urlencode

from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import conditional
from config.api.errors import error_body
from config.api.pagination import NewestFirstCursorPagination
from generation import selectors as generation_selectors
from generation.api import serializers as generation_serializers
from generation.api import views as generation_views
from generation.models import Track
from generation.services.jobs import QuotaExceeded
from recommendations import selectors
from recommendations.api import render
from recommendations.api import serializers as s
from recommendations.api.filters import CatalogFilter
from recommendations.services import events as event_services
from recommendations.services import listening, playlists, radio, saved, taste
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
            return Response(error_body("quota_exceeded", str(exceeded)), status=status.HTTP_429_TOO_MANY_REQUESTS,
                            headers={"Retry-After": str(max(1, exceeded.retry_after_s))})
        except ValueError as invalid:
            field, _, reason = str(invalid).partition(": ")
            return Response(error_body("invalid", str(invalid), {field: [reason or str(invalid)]}), status=400)
        job.refresh_from_db()
        return Response(generation_serializers.JobOutput(job).data, status=status.HTTP_202_ACCEPTED)


class TrackDetailApi(generation_views.TrackDetailApi):
    """A track: attributes, renditions with signed URLs, licence summary, links, and the
    listener's rating of it (``liked``: set by like/dislike events, taken back by unlike/undislike)."""

    @extend_schema(parameters=[conditional.IF_NONE_MATCH], responses=conditional.responses(s.TrackDetailOutput))
    def get(self, request, pk):
        return super().get(request, pk)

    def track_body(self, request, track) -> dict:
        ratings = selectors.track_ratings(user=request.user, track_ids={track.id})
        return {**super().track_body(request, track), "liked": ratings[track.id]}


# ------------------------------------------------------------------------------------------------
# The personal playlist and the taste behind it
# ------------------------------------------------------------------------------------------------
def _playlist_body(request, playlist, preferences=None) -> dict:
    entries = selectors.playlist_entries(user=request.user, playlist=playlist, preferences=preferences)
    return render.playlist(playlist, entries, ratings=selectors.entry_ratings(user=request.user, entries=entries))


class PlaylistApi(APIView):
    """The listener's playlist, at once from its materialised rows: ordered tracks with signed
    stream URLs and why each is here, then tracks being composed (job and progress)."""

    @extend_schema(parameters=[conditional.IF_NONE_MATCH], responses=conditional.responses(s.PlaylistOutput))
    def get(self, request):
        playlist, preferences = listening.playlist_for_reading(user=request.user)
        return conditional.respond(request, _playlist_body(request, playlist, preferences), signed_urls=True)


class PlaylistRefreshApi(APIView):
    """Rebuild the playlist now (a fresh draw), and compose ahead if it runs short."""

    @extend_schema(request=s.PlaylistRefreshInput, responses={200: s.PlaylistOutput})
    def post(self, request):
        data = s.PlaylistRefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        playlist = playlists.playlist_rebuild(user=request.user)
        if data.validated_data["compose_ahead"]:
            listening.compose_ahead_enqueue(user_id=request.user.pk)
        return Response(_playlist_body(request, playlist))


class TasteApi(APIView):
    """GET: what the recommender learned the listener likes, in numbers and words.
    DELETE: forget it, back to the stated preferences (the playlist follows)."""

    @extend_schema(responses={200: s.TasteOutput})
    def get(self, request):
        listening.catch_up_if_behind(user=request.user)
        return Response(s.TasteOutput(selectors.taste_view(user=request.user)).data)

    @extend_schema(responses={200: s.TasteOutput})
    def delete(self, request):
        taste.taste_reset(user=request.user)
        playlists.playlist_rebuild(user=request.user)
        return Response(s.TasteOutput(selectors.taste_view(user=request.user)).data)


# ------------------------------------------------------------------------------------------------
# Radio and the catalog
# ------------------------------------------------------------------------------------------------
class RadioApi(APIView):
    """An endless station seeded by a track (``?cursor=`` from ``next``; ``?page_size=`` ≤ 50)."""

    @extend_schema(
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("page_size", int)],
        responses={200: s.RadioPageOutput},
    )
    def get(self, request, pk):
        seed = generation_selectors.track_get(user=request.user, track_id=pk)
        params = s.RadioQueryInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        try:
            cursor = radio.RadioCursor.decode(params.validated_data["cursor"]) if params.validated_data.get("cursor") else None
        except ValueError as invalid:
            return Response(error_body("invalid", "Invalid input: cursor.", {"cursor": [str(invalid)]}), status=400)
        page = radio.radio_page(user=request.user, seed=seed, cursor=cursor, size=params.validated_data["page_size"])
        ratings = selectors.track_ratings(user=request.user, track_ids=render.entry_track_ids(page.entries))
        next_url = request.build_absolute_uri(request.path) + "?" + urlencode(
            {"cursor": page.next.encode(), "page_size": params.validated_data["page_size"]})
        return Response({"seed": str(seed.id), "next": next_url, "previous": None,
                         "results": render.entries(page.entries, with_position=False, with_score=False, ratings=ratings)})


class CatalogApi(generics.ListAPIView):
    """The approved shared catalog, newest first; filter by style, mood, tempo, key, mode."""

    serializer_class = s.TrackSummaryOutput
    filter_backends = (DjangoFilterBackend,)
    filterset_class = CatalogFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no listener
            return Track.objects.none()
        return selectors.catalog_for(user=self.request.user)


# ------------------------------------------------------------------------------------------------
# Saved playlists (owner only: another listener's answers 404)
# ------------------------------------------------------------------------------------------------
def _saved_body(request, playlist) -> dict:
    return s.SavedPlaylistOutput(selectors.saved_playlist_view(user=request.user, playlist=playlist)).data


def _unknown_tracks(error: saved.TracksUnknown) -> Response:
    return Response(error_body("invalid", f"Invalid input: {error.field}.",
                               {error.field: [f"Unknown track: {t}" for t in error.track_ids]}), status=400)


class SavedPlaylistsApi(APIView):
    """GET: the listener's saved playlists, newest first. POST: a new one (name, tracks?)."""

    pagination_class = NewestFirstCursorPagination  # also tells the schema the list is paginated

    @extend_schema(responses={200: s.SavedPlaylistOutput(many=True)})
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.saved_playlists_for(user=request.user), request, view=self)
        return paginator.get_paginated_response([
            s.SavedPlaylistOutput(selectors.saved_playlist_view(user=request.user, playlist=p)).data for p in page
        ])

    @extend_schema(request=s.SavedPlaylistInput, responses={201: s.SavedPlaylistOutput})
    def post(self, request):
        data = s.SavedPlaylistInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            playlist = saved.saved_playlist_create(owner=request.user, name=data.validated_data["name"],
                                                   track_ids=data.validated_data["tracks"])
        except saved.TracksUnknown as unknown:
            return _unknown_tracks(unknown)
        return Response(_saved_body(request, playlist), status=status.HTTP_201_CREATED)


class SavedPlaylistDetailApi(APIView):
    """GET one saved playlist; PATCH renames it; DELETE deletes it."""

    @extend_schema(responses={200: s.SavedPlaylistOutput})
    def get(self, request, pk):
        return Response(_saved_body(request, selectors.saved_playlist_get(user=request.user, playlist_id=pk)))

    @extend_schema(request=s.SavedPlaylistRenameInput, responses={200: s.SavedPlaylistOutput})
    def patch(self, request, pk):
        playlist = selectors.saved_playlist_get(user=request.user, playlist_id=pk)
        data = s.SavedPlaylistRenameInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(_saved_body(request, saved.saved_playlist_rename(playlist=playlist, **data.validated_data)))

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        saved.saved_playlist_delete(playlist=selectors.saved_playlist_get(user=request.user, playlist_id=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SavedPlaylistItemsApi(APIView):
    """Add a track (at ``position``, default the end)."""

    @extend_schema(request=s.SavedPlaylistAddInput, responses={200: s.SavedPlaylistOutput})
    def post(self, request, pk):
        playlist = selectors.saved_playlist_get(user=request.user, playlist_id=pk)
        data = s.SavedPlaylistAddInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            playlist = saved.saved_playlist_add(playlist=playlist, track_id=data.validated_data["track"],
                                                position=data.validated_data.get("position"))
        except saved.TracksUnknown as unknown:
            return _unknown_tracks(unknown)
        return Response(_saved_body(request, playlist))


class SavedPlaylistItemApi(APIView):
    """Remove the item at a position."""

    @extend_schema(responses={200: s.SavedPlaylistOutput})
    def delete(self, request, pk, position):
        playlist = selectors.saved_playlist_get(user=request.user, playlist_id=pk)
        try:
            playlist = saved.saved_playlist_remove(playlist=playlist, position=position)
        except IndexError:
            raise Http404 from None
        return Response(_saved_body(request, playlist))


class SavedPlaylistOrderApi(APIView):
    """Reorder: ``order`` lists the current positions in their new order."""

    @extend_schema(request=s.SavedPlaylistOrderInput, responses={200: s.SavedPlaylistOutput})
    def put(self, request, pk):
        playlist = selectors.saved_playlist_get(user=request.user, playlist_id=pk)
        data = s.SavedPlaylistOrderInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            playlist = saved.saved_playlist_reorder(playlist=playlist, order=data.validated_data["order"])
        except ValueError as invalid:
            return Response(error_body("invalid", "Invalid input: order.", {"order": [str(invalid).partition(": ")[2]]}),
                            status=400)
        return Response(_saved_body(request, playlist))
