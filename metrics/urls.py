from django.urls import path

from metrics import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export.csv", views.export, name="metrics_export"),
    path("dashboard/recompute/", views.recompute, name="metrics_recompute"),
    path("dashboard/runs/<int:run_id>/", views.run_status, name="metrics_run"),
]
