"""The v1 API: every app's resources on one router, the schema and the docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from accounts.api.webhooks import WebhookViewSet
from engagement.api import pm_suggestions
from engagement.api import views as engagement
from journey.api import views
from metrics.api import views as metric_views

router = SimpleRouter()
router.register("clients", views.ClientViewSet, basename="client")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("projects", views.ProjectViewSet, basename="project")
router.register("milestones", views.MilestoneViewSet, basename="milestone")
router.register("touchpoints", views.TouchpointViewSet, basename="touchpoint")
router.register("feedback", views.FeedbackViewSet, basename="feedback")
router.register("alerts", engagement.AlertViewSet, basename="alert")
router.register("playbooks", engagement.PlaybookViewSet, basename="playbook")
router.register("feedback-requests", engagement.FeedbackRequestViewSet, basename="feedback-request")
router.register("client-health", engagement.ClientHealthViewSet, basename="client-health")
router.register(
    r"projects/(?P<id>[0-9]+)/pm-suggestions",
    pm_suggestions.ProjectPMSuggestionViewSet,
    basename="project-pm-suggestions",
)
router.register("metrics", metric_views.MetricViewSet, basename="metric")
router.register("metric-runs", metric_views.MetricRunViewSet, basename="metric-run")
router.register("webhooks", WebhookViewSet, basename="webhook")

app_name = "api"
urlpatterns = [
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]),
        name="schema",
    ),
    path(
        "docs/",
        # The split view serves its start-up script as a file (?script): the strict CSP allows
        # no inline script.
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", permission_classes=[], authentication_classes=[]
        ),
        name="docs",
    ),
    path("", include(router.urls)),
]
