from django.urls import path

from generation.api import views

urlpatterns = [
    path("generations/<uuid:pk>", views.GenerationDetailApi.as_view(), name="generation-detail"),
    path("tracks", views.TracksApi.as_view(), name="tracks"),
    path("tracks/<uuid:pk>", views.TrackDetailApi.as_view(), name="track-detail"),
    path("tracks/<uuid:pk>/midi", views.TrackMidiApi.as_view(), name="track-midi"),
    path("tracks/<uuid:pk>/provenance", views.TrackProvenanceApi.as_view(), name="track-provenance"),
    path("tracks/<uuid:pk>/licence", views.TrackLicenceApi.as_view(), name="track-licence"),
    path("tracks/<uuid:pk>/report", views.TrackReportApi.as_view(), name="track-report"),
    path("styles", views.StylesApi.as_view(), name="styles"),
    path("me/quota", views.QuotaApi.as_view(), name="me-quota"),
    path("licences/verify", views.LicenceVerifyApi.as_view(), name="licence-verify"),
]
