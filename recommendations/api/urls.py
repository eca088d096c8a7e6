from django.urls import path

from recommendations.api import views

urlpatterns = [
    # generation lists jobs; planning what to compose (POST) is recommendations' part
    path("generations", views.GenerationsApi.as_view(), name="generations"),
    path("me/events", views.EventsApi.as_view(), name="me-events"),
]
