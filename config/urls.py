from django.contrib import admin
from django.urls import include, path

from engagement.survey_views import survey

urlpatterns = [
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
