"""`GET /api/v1/projects/{id}/pm-suggestions/`: the PM ranking of `journey.services.matching`
(mounted on the project viewset, kept apart so the engagement views can import the project
views' error responses without a cycle)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from journey.services import matching

READ_ERRORS = {
    401: OpenApiResponse(description="No valid credentials."),
    403: OpenApiResponse(
        description="A read-only key, a role that may not do this, or a user in no organization."
    ),
    404: OpenApiResponse(description="Not found in your organization (or a page past the end)."),
}


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


def pm_suggestions_response(viewset, pk) -> Response:
    ranked = matching.project_pm_suggestions(organization=viewset.organization, project_id=pk)
    return Response(PMSuggestionOut(ranked, many=True).data)


PM_SUGGESTIONS_SCHEMA = extend_schema(
    tags=["projects"],
    responses={200: PMSuggestionOut(many=True), **READ_ERRORS},
    summary="Rank the organization's project managers for this project",
    description="Best match first, each with its reasons: completed projects with the same "
    "segment and modality, their CSAT on them, and their current load.",
)
