"""Query filters (django-filter). Related ids filter within the already-scoped queryset, so
another organization's id simply matches nothing."""

from __future__ import annotations

import datetime as dt

import django_filters as df
from django import forms

from journey.models import (
    Client,
    ClientStatus,
    Contact,
    Feedback,
    FeedbackKind,
    Milestone,
    Modality,
    Phase,
    Project,
    ProjectStatus,
    Region,
    Segment,
    ServiceModel,
    ServiceType,
    Touchpoint,
    TouchpointKind,
)


class IdFilter(df.NumberFilter):
    """An id: a whole number in the database's range (anything else is a 400, not a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class _UtcIsoDateTimeField(df.fields.IsoDateTimeField):
    def clean(self, value):
        value = super().clean(value)
        if value is None:
            return None
        try:
            # PostgreSQL refuses offsets beyond +-15:59 that ISO 8601 allows: send UTC.
            return value.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError("Date-time out of range.") from None


class DateTimeFilter(df.IsoDateTimeFilter):
    """An ISO 8601 instant, compared in UTC."""

    field_class = _UtcIsoDateTimeField


def _modality_filter(field: str):
    def method(queryset, name, value):
        # JSON list membership that works on SQLite and PostgreSQL alike: codes are quoted
        # tokens in the stored JSON text, and no code contains another in quotes.
        return queryset.filter(**{f"{field}__icontains": f'"{value}"'})

    return method


class ClientFilter(df.FilterSet):
    segment = df.ChoiceFilter(choices=Segment.choices)
    service_model = df.ChoiceFilter(choices=ServiceModel.choices)
    status = df.ChoiceFilter(choices=ClientStatus.choices)
    region = df.ChoiceFilter(choices=Region.choices)
    modality = df.ChoiceFilter(
        choices=Modality.choices,
        method=_modality_filter("modalities"),
        help_text="Clients working in this modality.",
    )
    account_manager = df.CharFilter(
        field_name="account_manager__email", lookup_expr="iexact", help_text="E-mail"
    )

    class Meta:
        model = Client
        fields = ["segment", "service_model", "status", "region", "modality", "account_manager"]


class ContactFilter(df.FilterSet):
    client = IdFilter(field_name="client_id")
    is_primary = df.BooleanFilter()

    class Meta:
        model = Contact
        fields = ["client", "is_primary"]


class ProjectFilter(df.FilterSet):
    client = IdFilter(field_name="client_id")
    segment = df.ChoiceFilter(field_name="client__segment", choices=Segment.choices)
    service_model = df.ChoiceFilter(
        field_name="client__service_model", choices=ServiceModel.choices
    )
    phase = df.ChoiceFilter(choices=Phase.choices)
    status = df.ChoiceFilter(choices=ProjectStatus.choices)
    modality = df.ChoiceFilter(choices=Modality.choices)
    service_type = df.ChoiceFilter(choices=ServiceType.choices)
    project_manager = df.CharFilter(
        field_name="project_manager__email", lookup_expr="iexact", help_text="E-mail"
    )
    account_manager = df.CharFilter(
        field_name="client__account_manager__email", lookup_expr="iexact", help_text="E-mail"
    )
    opened_after = DateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = DateTimeFilter(field_name="opened_at", lookup_expr="lt")

    class Meta:
        model = Project
        fields = [
            "client",
            "segment",
            "service_model",
            "phase",
            "status",
            "modality",
            "service_type",
            "project_manager",
        ]


class MilestoneFilter(df.FilterSet):
    project = IdFilter(field_name="project_id")
    client = IdFilter(field_name="project__client_id")
    phase = df.ChoiceFilter(choices=Phase.choices)
    completed = df.BooleanFilter(field_name="completed_at", lookup_expr="isnull", exclude=True)
    due_after = df.DateFilter(field_name="due_date", lookup_expr="gte")
    due_before = df.DateFilter(field_name="due_date", lookup_expr="lte")
    project_manager = df.CharFilter(
        field_name="project__project_manager__email", lookup_expr="iexact"
    )

    class Meta:
        model = Milestone
        fields = ["project", "phase"]


class TouchpointFilter(df.FilterSet):
    client = IdFilter(field_name="client_id")
    project = IdFilter(field_name="project_id")
    kind = df.ChoiceFilter(choices=TouchpointKind.choices)
    senior_leader_present = df.BooleanFilter()
    by = df.CharFilter(field_name="by__email", lookup_expr="iexact")
    at_after = DateTimeFilter(field_name="at", lookup_expr="gte")
    at_before = DateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = Touchpoint
        fields = ["client", "project", "kind", "senior_leader_present"]


class FeedbackFilter(df.FilterSet):
    project = IdFilter(field_name="project_id")
    client = IdFilter(field_name="project__client_id")
    kind = df.ChoiceFilter(choices=FeedbackKind.choices)
    phase = df.ChoiceFilter(choices=Phase.choices)
    answered = df.BooleanFilter(field_name="score", lookup_expr="isnull", exclude=True)
    responded_after = DateTimeFilter(field_name="responded_at", lookup_expr="gte")
    responded_before = DateTimeFilter(field_name="responded_at", lookup_expr="lt")

    class Meta:
        model = Feedback
        fields = ["project", "kind", "phase"]
