from django.urls import path

from recommendations.api import views

urlpatterns = [
    # generation lists jobs; planning what to compose (POST) is recommendations' part
    path("generations", views.GenerationsApi.as_view(), name="generations"),
    path("me/events", views.EventsApi.as_view(), name="me-events"),
    path("me/playlist", views.PlaylistApi.as_view(), name="me-playlist"),
    path("me/playlist/refresh", views.PlaylistRefreshApi.as_view(), name="me-playlist-refresh"),
    path("me/taste", views.TasteApi.as_view(), name="me-taste"),
    path("me/playlists", views.SavedPlaylistsApi.as_view(), name="saved-playlists"),
    path("me/playlists/<uuid:pk>", views.SavedPlaylistDetailApi.as_view(), name="saved-playlist-detail"),
    path("me/playlists/<uuid:pk>/items", views.SavedPlaylistItemsApi.as_view(), name="saved-playlist-items"),
    path("me/playlists/<uuid:pk>/items/<int:position>", views.SavedPlaylistItemApi.as_view(),
         name="saved-playlist-item"),
    path("me/playlists/<uuid:pk>/order", views.SavedPlaylistOrderApi.as_view(), name="saved-playlist-order"),
    # the track page with the listener's rating: generation serves the rest of /tracks/<id>
    path("tracks/<uuid:pk>", views.TrackDetailApi.as_view(), name="track-detail"),
    path("tracks/<uuid:pk>/radio", views.RadioApi.as_view(), name="track-radio"),
    path("catalog", views.CatalogApi.as_view(), name="catalog"),
]
