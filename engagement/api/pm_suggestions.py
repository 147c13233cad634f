"""`GET /api/v1/projects/{id}/pm-suggestions/`: the PM ranking of `engagement.services.matching`,
routed under the project (`config/api_urls.py`) by the engagement app itself."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from accounts.api.base import OrganizationViewSet
from accounts.api.schema import READ_ERRORS
from engagement.services import matching
from journey.selectors import project_get


class PMSuggestionOut(serializers.Serializer):
    rank = serializers.IntegerField()
    project_manager = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.full_name")
    score = serializers.FloatField()
    same_segment_and_modality = serializers.IntegerField(
        help_text="Completed projects with the same client segment and modality."
    )
    same_segment_or_modality = serializers.IntegerField(help_text="Completed, one of the two.")
    csat_avg = serializers.FloatField(allow_null=True)
    csat_n = serializers.IntegerField()
    active_projects = serializers.IntegerField(help_text="Open projects they manage now.")
    is_current = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())


@extend_schema_view(
    list=extend_schema(
        tags=["projects"],
        responses={200: PMSuggestionOut(many=True), **READ_ERRORS},
        summary="Rank the organization's project managers for this project",
        description="Best match first, each with its reasons: completed projects with the same "
        "segment and modality, their CSAT on them, and their current load.",
    )
)
class ProjectPMSuggestionViewSet(OrganizationViewSet):
    """`GET /api/v1/projects/{id}/pm-suggestions/`: not paginated, the ranking is short."""

    pagination_class = None
    filter_backends = []
    serializer_class = PMSuggestionOut
    # The project is looked up first, so another organization's project is a 404.
    detail_actions = {*OrganizationViewSet.detail_actions, "list"}

    def csv_objects(self):
        project = project_get(organization=self.organization, project_id=self.kwargs["id"])
        return matching.project_pm_suggestions(
            organization=self.organization, project_id=project.pk
        )

    def list(self, request, id=None):
        return Response(self.list_data(self.csv_objects()))
