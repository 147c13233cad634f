from django.contrib import admin
from django.urls import include, path

from config import health
from engagement.survey_views import survey

urlpatterns = [
    # Load balancers' probes (answered by config.health.HealthCheckMiddleware first).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("config.api_urls")),
    # Public (no login): the e-mailed feedback link; the token is the credential.
    path("survey/<path:token>/", survey, name="survey"),
    path("", include("journey.urls")),
    path("", include("engagement.urls")),
    path("", include("metrics.urls")),
]

handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
