"""Root URLs: the REST API under /api/v1/, its schema and docs, the admin."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.api.health import HealthApi, ReadyApi
from generation.api.views import LicenceKeyApi, signed_object

handler404 = "config.api.errors.not_found"
handler500 = "config.api.errors.server_error"

urlpatterns = [
    path("", TemplateView.as_view(template_name="player.html"), name="player"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/v1/health", HealthApi.as_view(), name="health"),
    path("api/v1/ready", ReadyApi.as_view(), name="ready"),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("recommendations.api.urls")),
    path("api/v1/", include("generation.api.urls")),
    path(".well-known/cadenza-licence-key", LicenceKeyApi.as_view(), name="licence-key"),
    path("objects/<str:token>", signed_object, name="signed-object"),
]
