"""v1 resources: thin views over the journey's selectors and services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.base import OrganizationViewSet
from accounts.api.schema import ERRORS, READ_ERRORS, crud_schema
from accounts.permissions import Perm
from journey import filters, selectors, services
from journey.api import serializers as s


class ResourceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganizationViewSet):
    """list/retrieve from the selectors; create/update/delete through the services."""

    out_serializer: type
    in_serializer: type
    patch_serializer: type | None = None
    selector_list = None
    selector_get = None
    id_kwarg: str
    create_service = None
    update_service = None
    delete_service = None

    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no org
            return self.out_serializer.Meta.model.objects.none()
        return type(self).selector_list(organization=self.organization)

    def lookup(self, pk):
        return type(self).selector_get(organization=self.organization, **{self.id_kwarg: pk})

    def get_serializer_class(self):
        if self.action == "create":
            return self.in_serializer
        if self.action == "partial_update":
            return self.patch_serializer or self.in_serializer
        return self.out_serializer

    def _render(self, obj, code=status.HTTP_200_OK):
        return Response(
            self.out_serializer(obj, context=self.get_serializer_context()).data, status=code
        )

    def _input(self, *, partial: bool) -> dict:
        serializer = self.get_serializer(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def create(self, request, *args, **kwargs):
        obj = type(self).create_service(actor=self.actor, **self._input(partial=False))
        return self._render(self.lookup(obj.pk), status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        obj = self.get_object()
        type(self).update_service(
            actor=self.actor, **{self.id_kwarg: obj.pk}, **self._input(partial=True)
        )
        return self._render(self.lookup(obj.pk))

    def destroy(self, request, *args, **kwargs):
        obj = self.get_object()
        type(self).delete_service(actor=self.actor, **{self.id_kwarg: obj.pk})
        return Response(status=status.HTTP_204_NO_CONTENT)


@crud_schema(s.ClientOut, s.ClientIn, tag="clients")
class ClientViewSet(ResourceViewSet):
    out_serializer, in_serializer = s.ClientOut, s.ClientIn
    selector_list, selector_get, id_kwarg = selectors.client_list, selectors.client_get, "client_id"
    create_service, update_service, delete_service = (
        services.client_create,
        services.client_update,
        services.client_delete,
    )
    write_perms = {
        "create": Perm.CLIENT_WRITE,
        "partial_update": Perm.CLIENT_WRITE,
        "destroy": Perm.DELETE,
    }
    filterset_class = filters.ClientFilter
    ordering_fields = ["name", "segment", "status", "created_at", "updated_at"]
    ordering = ["name", "id"]


@crud_schema(s.ContactOut, s.ContactIn, tag="contacts")
class ContactViewSet(ResourceViewSet):
    out_serializer, in_serializer = s.ContactOut, s.ContactIn
    selector_list, selector_get, id_kwarg = (
        selectors.contact_list,
        selectors.contact_get,
        "contact_id",
    )
    create_service, update_service, delete_service = (
        services.contact_create,
        services.contact_update,
        services.contact_delete,
    )
    write_perms = {
        "create": Perm.CONTACT_WRITE,
        "partial_update": Perm.CONTACT_WRITE,
        "destroy": Perm.CONTACT_WRITE,
    }
    filterset_class = filters.ContactFilter
    ordering_fields = ["name", "created_at"]
    ordering = ["client__name", "-is_primary", "name", "id"]


@crud_schema(s.ProjectOut, s.ProjectIn, s.ProjectPatchIn, tag="projects")
class ProjectViewSet(ResourceViewSet):
    out_serializer, in_serializer, patch_serializer = s.ProjectOut, s.ProjectIn, s.ProjectPatchIn
    selector_list, selector_get, id_kwarg = (
        selectors.project_list,
        selectors.project_get,
        "project_id",
    )
    create_service, update_service, delete_service = (
        services.project_open,
        services.project_update,
        services.project_delete,
    )
    write_perms = {
        "create": Perm.PROJECT_WRITE,
        "partial_update": Perm.PROJECT_WRITE,
        "destroy": Perm.DELETE,
        "transition": Perm.PROJECT_TRANSITION,
    }
    detail_actions = {
        *OrganizationViewSet.detail_actions,
        "transition",
        "timeline",
    }
    filterset_class = filters.ProjectFilter
    ordering_fields = [
        "opened_at",
        "code",
        "name",
        "phase",
        "status",
        "contract_value",
        "updated_at",
    ]
    ordering = ["-opened_at", "id"]
    csv_actions = {"list", "timeline"}

    def csv_objects(self):
        if self.action == "timeline":
            return selectors.project_timeline(
                organization=self.organization, project_id=self.kwargs["pk"]
            )
        return super().csv_objects()

    def get_serializer_class(self):
        if self.action == "transition":
            return s.TransitionIn
        if self.action == "timeline":
            return s.TransitionOut
        return super().get_serializer_class()

    @extend_schema(
        tags=["projects"],
        request=s.TransitionIn,
        responses={200: s.ProjectOut, **ERRORS},
        summary="Move the project along the journey",
        description=(
            "One step forward at a time (assess -> initiate is the 'won' decision), or `lost` "
            "(from assess), `completed` (from close_out), `cancelled`, `on_hold`, `active` "
            "(resume). Backward or skipping moves need an admin and a `reason`."
        ),
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        project = self.get_object()
        data = self._input(partial=False)
        services.project_transition(actor=self.actor, project_id=project.pk, **data)
        return self._render(self.lookup(project.pk))

    @extend_schema(
        tags=["projects"],
        responses={200: s.TransitionOut(many=True), **READ_ERRORS},
        summary="The project's journey journal, oldest first",
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def timeline(self, request, pk=None):
        return Response(self.list_data(self.csv_objects()))


@crud_schema(s.MilestoneOut, s.MilestoneIn, tag="milestones")
class MilestoneViewSet(ResourceViewSet):
    out_serializer, in_serializer = s.MilestoneOut, s.MilestoneIn
    selector_list, selector_get, id_kwarg = (
        selectors.milestone_list,
        selectors.milestone_get,
        "milestone_id",
    )
    create_service, update_service, delete_service = (
        services.milestone_create,
        services.milestone_update,
        services.milestone_delete,
    )
    write_perms = {
        "create": Perm.MILESTONE_WRITE,
        "partial_update": Perm.MILESTONE_WRITE,
        "destroy": Perm.MILESTONE_WRITE,
    }
    filterset_class = filters.MilestoneFilter
    ordering_fields = ["due_date", "completed_at", "title"]
    ordering = ["due_date", "id"]


@crud_schema(s.TouchpointOut, s.TouchpointIn, tag="touchpoints")
class TouchpointViewSet(ResourceViewSet):
    out_serializer, in_serializer = s.TouchpointOut, s.TouchpointIn
    selector_list, selector_get, id_kwarg = (
        selectors.touchpoint_list,
        selectors.touchpoint_get,
        "touchpoint_id",
    )
    create_service, update_service, delete_service = (
        services.touchpoint_create,
        services.touchpoint_update,
        services.touchpoint_delete,
    )
    write_perms = {
        "create": Perm.TOUCHPOINT_WRITE,
        "partial_update": Perm.TOUCHPOINT_WRITE,
        "destroy": Perm.TOUCHPOINT_WRITE,
    }
    filterset_class = filters.TouchpointFilter
    ordering_fields = ["at", "kind"]
    ordering = ["-at", "-id"]


@crud_schema(s.FeedbackOut, s.FeedbackIn, tag="feedback")
class FeedbackViewSet(ResourceViewSet):
    out_serializer, in_serializer = s.FeedbackOut, s.FeedbackIn
    selector_list, selector_get, id_kwarg = (
        selectors.feedback_list,
        selectors.feedback_get,
        "feedback_id",
    )
    create_service, update_service, delete_service = (
        services.feedback_create,
        services.feedback_update,
        services.feedback_delete,
    )
    write_perms = {
        "create": Perm.FEEDBACK_WRITE,
        "partial_update": Perm.FEEDBACK_WRITE,
        "destroy": Perm.DELETE,
    }
    filterset_class = filters.FeedbackFilter
    ordering_fields = ["responded_at", "score", "requested_at"]
    ordering = ["-responded_at", "-id"]
