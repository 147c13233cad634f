from django.urls import path

from journey import engagement_views as ev
from journey import views
from metrics import views as metrics_views

urlpatterns = [
    path("", views.home, name="home"),
    path("clients/", views.clients, name="clients"),
    path("clients/new/", views.client_create, name="client_create"),
    path("clients/<int:client_id>/", views.client_detail, name="client_detail"),
    path("clients/<int:client_id>/edit/", views.client_edit, name="client_edit"),
    path("clients/<int:client_id>/contacts/new/", views.contact_create, name="contact_create"),
    path("clients/<int:client_id>/touchpoints/", views.touchpoint_log, name="touchpoint_log"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("projects/", views.projects, name="projects"),
    path("projects/mine/", views.my_projects, name="my_projects"),
    path("projects/new/", views.project_create, name="project_create"),
    path("projects/<int:project_id>/", views.project_detail, name="project_detail"),
    path("projects/<int:project_id>/edit/", views.project_edit, name="project_edit"),
    path(
        "projects/<int:project_id>/transition/",
        views.project_transition,
        name="project_transition",
    ),
    path("projects/<int:project_id>/milestones/", views.milestone_add, name="milestone_add"),
    path(
        "milestones/<int:milestone_id>/complete/",
        views.milestone_complete,
        name="milestone_complete",
    ),
    path("projects/<int:project_id>/surveys/", ev.survey_request, name="survey_request"),
    path("projects/<int:project_id>/assign-pm/", ev.project_assign_pm, name="project_assign_pm"),
    path("alerts/", ev.alerts, name="alerts"),
    path("alerts/<int:alert_id>/resolve/", ev.alert_resolve, name="alert_resolve"),
    path("alerts/<int:alert_id>/snooze/", ev.alert_snooze, name="alert_snooze"),
    path("settings/", ev.engagement_settings, name="engagement_settings"),
    path("settings/playbooks/<int:playbook_id>/", ev.playbook_save, name="playbook_save"),
    path("settings/health-weights/", ev.health_weights_save, name="health_weights_save"),
    path("settings/gate-surveys/", ev.gate_surveys_save, name="gate_surveys_save"),
    path("board/", views.board, name="board"),
    path("dashboard/", metrics_views.dashboard, name="dashboard"),
    path("dashboard/export.csv", metrics_views.export, name="metrics_export"),
    path("dashboard/recompute/", metrics_views.recompute, name="metrics_recompute"),
    path("dashboard/runs/<int:run_id>/", metrics_views.run_status, name="metrics_run"),
]
