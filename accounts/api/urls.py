from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/register", views.RegisterApi.as_view(), name="auth-register"),
    path("auth/token", views.TokenApi.as_view(), name="auth-token"),
    path("auth/token/refresh", views.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout", views.LogoutApi.as_view(), name="auth-logout"),
    path("auth/password-reset", views.PasswordResetApi.as_view(), name="auth-password-reset"),
    path("auth/password-reset/confirm", views.PasswordResetConfirmApi.as_view(), name="auth-password-reset-confirm"),
    path("me", views.MeApi.as_view(), name="me"),
    path("me/password", views.PasswordChangeApi.as_view(), name="me-password"),
    path("me/export", views.MeExportApi.as_view(), name="me-export"),
    path("me/preferences", views.PreferencesApi.as_view(), name="me-preferences"),
]
