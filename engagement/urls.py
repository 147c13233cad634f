from django.urls import path

from engagement import views

urlpatterns = [
    path("projects/<int:project_id>/surveys/", views.survey_request, name="survey_request"),
    path(
        "projects/<int:project_id>/surveys/panel/",
        views.project_surveys_panel,
        name="project_surveys_panel",
    ),
    path("projects/<int:project_id>/pm-panel/", views.project_pm_panel, name="project_pm_panel"),
    path("projects/<int:project_id>/assign-pm/", views.project_assign_pm, name="project_assign_pm"),
    path("clients/<int:client_id>/health/", views.client_health_panel, name="client_health_panel"),
    path(
        "clients/<int:client_id>/surveys/", views.client_surveys_panel, name="client_surveys_panel"
    ),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/mine/panel/", views.home_alerts_panel, name="home_alerts_panel"),
    path("alerts/<int:alert_id>/resolve/", views.alert_resolve, name="alert_resolve"),
    path("alerts/<int:alert_id>/snooze/", views.alert_snooze, name="alert_snooze"),
    path("dashboard/at-risk/", views.at_risk_panel, name="at_risk_panel"),
    path("settings/", views.engagement_settings, name="engagement_settings"),
    path("settings/playbooks/", views.playbooks_create, name="playbooks_create"),
    path("settings/playbooks/<int:playbook_id>/", views.playbook_save, name="playbook_save"),
    path("settings/health-weights/", views.health_weights_save, name="health_weights_save"),
    path("settings/gate-surveys/", views.gate_surveys_save, name="gate_surveys_save"),
]
