"""v1 engagement resources: alerts, playbooks, feedback requests, client health, and a
project's PM suggestions. Thin views over `engagement.selectors` and the engagement
services; scoping, roles and errors come from `OrganizationViewSet`."""

from __future__ import annotations

import django_filters as df
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.api.base import OrganizationViewSet
from accounts.api.schema import ERRORS, READ_ERRORS
from accounts.filters import IdFilter, SearchFilterSet
from accounts.permissions import Perm
from engagement import selectors as es
from engagement.api.serializers import AlertOut
from engagement.models import Alert, AlertKind, ClientHealthCurrent, Playbook
from engagement.services import alerts as alert_services
from engagement.services import health as health_services
from engagement.services import playbooks as playbook_services
from engagement.services import settings as settings_services
from journey.models import (
    Feedback,
    FeedbackKind,
    FeedbackOrigin,
    Phase,
    Segment,
    ServiceModel,
)
from journey.services import feedback_create

WRITE_ERRORS = {k: ERRORS[k] for k in (400, 401, 403, 404)}


def _email_of():
    return serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)


class EngagementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganizationViewSet):
    out_serializer: type
    model: type
    lookup_value_regex = r"[0-9]+"

    def get_serializer_class(self):
        return self.out_serializer

    def selector_list(self):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no org
            return self.model.objects.none()
        return self.selector_list()

    def _render(self, obj, code=status.HTTP_200_OK):
        return Response(
            self.out_serializer(obj, context=self.get_serializer_context()).data, status=code
        )

    def _input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


# --- alerts ---------------------------------------------------------------------------------
class AlertResolveIn(serializers.Serializer):
    note = serializers.CharField(max_length=5000, help_text="What was done about it.")


class AlertSnoozeIn(serializers.Serializer):
    until = serializers.DateField(
        allow_null=True,
        help_text="Hide until this date (after today, within a year); null wakes it.",
    )


class AlertFilter(SearchFilterSet):
    search_fields = ("title", "message", "resolution_note")
    state = df.ChoiceFilter(
        choices=[("open", "open"), ("snoozed", "snoozed"), ("resolved", "resolved")],
        method="filter_state",
        help_text="open: unresolved and awake (the inbox); snoozed; resolved.",
    )
    kind = df.ChoiceFilter(choices=AlertKind.choices)
    assignee = df.CharFilter(field_name="assignee__email", lookup_expr="iexact", help_text="E-mail")
    mine = df.BooleanFilter(method="filter_mine", help_text="Only alerts assigned to the caller.")
    client = IdFilter(field_name="client_id")
    project = IdFilter(field_name="project_id")

    class Meta:
        model = Alert
        fields = ["state", "kind", "assignee", "client", "project"]

    def filter_state(self, queryset, name, value):
        return queryset.filter(es.alert_state_q(value, timezone.now().date()))

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if not value:
            return queryset
        if user is None or not getattr(user, "pk", None) or not user.is_authenticated:
            return queryset.none()  # an API key is nobody
        return queryset.filter(assignee_id=user.pk)


@extend_schema_view(
    list=extend_schema(tags=["alerts"], responses={200: AlertOut(many=True), **ERRORS}),
    retrieve=extend_schema(tags=["alerts"], responses={200: AlertOut, **READ_ERRORS}),
)
class AlertViewSet(EngagementViewSet):
    out_serializer, model = AlertOut, Alert
    write_perms = {"resolve": Perm.ALERT_WRITE, "snooze": Perm.ALERT_WRITE}
    detail_actions = {*OrganizationViewSet.detail_actions, "resolve", "snooze"}
    filterset_class = AlertFilter
    ordering_fields = ["raised_at", "kind", "snoozed_until", "resolved_at"]
    ordering = ["-raised_at", "-id"]

    def selector_list(self):
        return es.alert_list(organization=self.organization, state=None)

    def lookup(self, pk):
        return es.alert_get(organization=self.organization, alert_id=pk)

    def get_serializer_class(self):
        return {"resolve": AlertResolveIn, "snooze": AlertSnoozeIn}.get(
            self.action, self.out_serializer
        )

    @extend_schema(
        tags=["alerts"],
        request=AlertResolveIn,
        responses={200: AlertOut, **WRITE_ERRORS},
        summary="Resolve the alert with a note",
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        alert = self.get_object()
        data = self._input(AlertResolveIn)
        return self._render(
            alert_services.alert_resolve(actor=self.actor, alert_id=alert.pk, note=data["note"])
        )

    @extend_schema(
        tags=["alerts"],
        request=AlertSnoozeIn,
        responses={200: AlertOut, **WRITE_ERRORS},
        summary="Snooze the alert until a date",
    )
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        alert = self.get_object()
        data = self._input(AlertSnoozeIn)
        return self._render(
            alert_services.alert_snooze(actor=self.actor, alert_id=alert.pk, until=data["until"])
        )


# --- playbooks ------------------------------------------------------------------------------
class PhaseDays(serializers.Serializer):
    """Days per phase (null: no rule)."""

    assess = serializers.IntegerField(allow_null=True, required=False)
    initiate = serializers.IntegerField(allow_null=True, required=False)
    plan = serializers.IntegerField(allow_null=True, required=False)
    execute = serializers.IntegerField(allow_null=True, required=False)
    close_out = serializers.IntegerField(allow_null=True, required=False)


class PlaybookOut(serializers.ModelSerializer):
    cadence_days = PhaseDays()
    target_days = PhaseDays()
    suggested_target_days = serializers.SerializerMethodField(
        help_text="Per phase: the p50 (days) of the time this service model's projects spent "
        "in it (the stored `phase_duration_days` of the service model), how many stays it "
        "rests on (`n`), and `exact`: false when several months' medians were pooled "
        "(weighted by n), as on the dashboard."
    )

    class Meta:
        model = Playbook
        fields = [
            "id",
            "service_model",
            "cadence_days",
            "target_days",
            "senior_leader_expected",
            "senior_leader_every_days",
            "notes",
            "suggested_target_days",
            "updated_at",
        ]

    def get_suggested_target_days(self, obj) -> dict[str, dict]:
        return playbook_services.playbook_target_suggestions(
            organization=obj.organization_id, service_model=obj.service_model
        )


class PhaseDaysField(serializers.DictField):
    child = serializers.IntegerField(allow_null=True, min_value=1, max_value=3650)


class PlaybookPatchIn(serializers.Serializer):
    cadence_days = PhaseDaysField(
        required=False, help_text='Merged per phase, e.g. {"execute": 5}; null removes the rule.'
    )
    target_days = PhaseDaysField(required=False, help_text="Merged per phase, like cadence_days.")
    senior_leader_expected = serializers.BooleanField(required=False)
    senior_leader_every_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=3650
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)


@extend_schema_view(
    list=extend_schema(
        tags=["playbooks"],
        responses={200: PlaybookOut(many=True), **ERRORS},
        description="One playbook per service model (the defaults are created on first use).",
    ),
    retrieve=extend_schema(tags=["playbooks"], responses={200: PlaybookOut, **READ_ERRORS}),
    partial_update=extend_schema(
        tags=["playbooks"], request=PlaybookPatchIn, responses={200: PlaybookOut, **ERRORS}
    ),
)
class PlaybookViewSet(EngagementViewSet):
    out_serializer, model = PlaybookOut, Playbook
    write_perms = {"partial_update": Perm.ENGAGEMENT_MANAGE}
    filter_backends: list = []

    def selector_list(self):
        return playbook_services.playbook_list(organization=self.organization)

    def lookup(self, pk):
        return playbook_services.playbook_get(organization=self.organization, playbook_id=pk)

    def get_serializer_class(self):
        return PlaybookPatchIn if self.action == "partial_update" else self.out_serializer

    def partial_update(self, request, *args, **kwargs):
        playbook = self.get_object()
        data = self._input(PlaybookPatchIn)
        return self._render(
            settings_services.playbook_update(actor=self.actor, playbook_id=playbook.pk, **data)
        )


# --- feedback requests ----------------------------------------------------------------------
class FeedbackRequestOut(serializers.ModelSerializer):
    client = serializers.IntegerField(source="project.client_id", read_only=True)
    status = serializers.SerializerMethodField(help_text="pending, answered, expired or unsent")

    class Meta:
        model = Feedback
        fields = [
            "id",
            "project",
            "client",
            "contact",
            "phase",
            "kind",
            "origin",
            "status",
            "requested_at",
            "sent_at",
            "reminder_sent_at",
            "expires_at",
            "score",
            "comment",
            "responded_at",
        ]

    def get_status(self, obj) -> str:
        return es.feedback_request_status(obj)


class FeedbackRequestIn(serializers.Serializer):
    project = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    contact = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        help_text="A contact of the project's client, with an e-mail.",
    )
    kind = serializers.ChoiceField(choices=FeedbackKind.choices)
    phase = serializers.ChoiceField(
        choices=Phase.choices, help_text="A phase the project has entered."
    )


class FeedbackRequestFilter(df.FilterSet):
    project = IdFilter(field_name="project_id")
    client = IdFilter(field_name="project__client_id")
    kind = df.ChoiceFilter(choices=FeedbackKind.choices)
    origin = df.ChoiceFilter(
        choices=[(FeedbackOrigin.REQUEST, "request"), (FeedbackOrigin.GATE, "gate")]
    )
    answered = df.BooleanFilter(field_name="score", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Feedback
        fields = ["project", "client", "kind", "origin"]


@extend_schema_view(
    list=extend_schema(
        tags=["feedback-requests"], responses={200: FeedbackRequestOut(many=True), **ERRORS}
    ),
    retrieve=extend_schema(
        tags=["feedback-requests"], responses={200: FeedbackRequestOut, **READ_ERRORS}
    ),
    create=extend_schema(
        tags=["feedback-requests"],
        request=FeedbackRequestIn,
        responses={201: FeedbackRequestOut, **{k: ERRORS[k] for k in (400, 401, 403)}},
        description="Ask a contact for a score: the survey link is e-mailed after commit.",
    ),
)
class FeedbackRequestViewSet(mixins.CreateModelMixin, EngagementViewSet):
    out_serializer, model = FeedbackRequestOut, Feedback
    write_perms = {"create": Perm.FEEDBACK_WRITE}
    filterset_class = FeedbackRequestFilter
    ordering_fields = ["requested_at", "sent_at", "responded_at"]
    ordering = ["-requested_at", "-id"]

    def selector_list(self):
        return es.feedback_request_list(organization=self.organization)

    def lookup(self, pk):
        return es.feedback_request_get(organization=self.organization, feedback_id=pk)

    def get_serializer_class(self):
        return FeedbackRequestIn if self.action == "create" else self.out_serializer

    def create(self, request, *args, **kwargs):
        data = self._input(FeedbackRequestIn)
        feedback = feedback_create(actor=self.actor, **data)
        return self._render(self.lookup(feedback.pk), status.HTTP_201_CREATED)


# --- client health --------------------------------------------------------------------------
class HealthComponent(serializers.Serializer):
    score = serializers.FloatField(allow_null=True, help_text="0-100; null: no data")
    weight = serializers.IntegerField()
    counted = serializers.BooleanField(help_text="Has data and a weight above 0.")
    share = serializers.FloatField(help_text="Its share of the score (weights of counted parts).")
    detail = serializers.CharField()


class HealthComponents(serializers.Serializer):
    feedback = HealthComponent()
    milestones = HealthComponent()
    touchpoints = HealthComponent()
    alerts = HealthComponent()
    stuck = HealthComponent()


class ClientHealthOut(serializers.Serializer):
    id = serializers.IntegerField(source="client.pk", help_text="The client's id.")
    name = serializers.CharField(source="client.name")
    segment = serializers.ChoiceField(source="client.segment", choices=Segment.choices)
    service_model = serializers.ChoiceField(
        source="client.service_model", choices=ServiceModel.choices
    )
    score = serializers.IntegerField(allow_null=True, help_text="0-100; null: no data yet.")
    at_risk = serializers.BooleanField()
    components = serializers.SerializerMethodField()

    def get_components(self, obj) -> HealthComponents:
        return obj.as_dict()


class HealthTrendPoint(serializers.Serializer):
    day = serializers.DateField()
    score = serializers.IntegerField(allow_null=True)


class ClientHealthDetailOut(ClientHealthOut):
    weights = serializers.SerializerMethodField()
    trend = serializers.SerializerMethodField(help_text="Daily snapshots, last 90 days.")

    def get_weights(self, obj) -> dict[str, int]:
        return {name: c.weight for name, c in obj.components.items()}

    def get_trend(self, obj) -> HealthTrendPoint(many=True):  # type: ignore[valid-type]
        return [{"day": s.day, "score": s.score} for s in self.context.get("trend", [])]


AT_RISK = OpenApiParameter(
    "at_risk", OpenApiTypes.BOOL, description="Only clients below the at-risk threshold."
)


@extend_schema_view(
    list=extend_schema(
        tags=["client-health"],
        parameters=[AT_RISK],
        responses={200: ClientHealthOut(many=True), **ERRORS},
        description="Every client's health (0-100), lowest first, with its breakdown.",
    ),
    retrieve=extend_schema(
        tags=["client-health"],
        responses={200: ClientHealthDetailOut, **READ_ERRORS},
        description="One client's health: breakdown, weights and 90-day trend. The id is the client's.",
    ),
)
class ClientHealthViewSet(EngagementViewSet):
    """The list reads the stored health (`ClientHealthCurrent`, kept current after every
    change to a client and daily): a page costs a page. One client's detail is computed from
    that client's own rows."""

    out_serializer, model = ClientHealthOut, ClientHealthCurrent
    filter_backends: list = []

    def selector_list(self):
        rows = health_services.client_health_stored(organization=self.organization)
        flag = self.request.query_params.get("at_risk")
        if flag is not None:
            if flag.lower() not in {"true", "false", "1", "0"}:
                raise ValidationError({"at_risk": ["Give true or false."]})
            risky = health_services.at_risk_q()
            rows = rows.filter(risky if flag.lower() in {"true", "1"} else ~risky)
        return rows

    def list_data(self, objects) -> list[dict]:
        rows = [health_services.ClientHealth.from_stored(row) for row in objects]
        return self.out_serializer(rows, many=True).data

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.list_data(page))

    def retrieve(self, request, *args, **kwargs):
        pk = self.kwargs["pk"]
        health = health_services.client_health(organization=self.organization, client_id=pk)
        trend = health_services.client_health_trend(
            organization=self.organization, client_id=health.client.pk
        )
        return Response(ClientHealthDetailOut(health, context={"trend": trend}).data)
