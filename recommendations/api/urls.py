from django.urls import path

from recommendations.api import views

urlpatterns = [
    path("me/events", views.EventsApi.as_view(), name="me-events"),
]
