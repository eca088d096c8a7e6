from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/register", views.RegisterApi.as_view(), name="auth-register"),
    path("auth/token", views.TokenApi.as_view(), name="auth-token"),
    path("auth/token/refresh", views.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout", views.LogoutApi.as_view(), name="auth-logout"),
    path("me", views.MeApi.as_view(), name="me"),
    path("me/export", views.MeExportApi.as_view(), name="me-export"),
    path("me/preferences", views.PreferencesApi.as_view(), name="me-preferences"),
]
