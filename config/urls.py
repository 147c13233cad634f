from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("journey.api.urls")),
    path("", include("journey.urls")),
]

handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
