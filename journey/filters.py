"""One filter definition per resource (django-filter), used by the API (`?segment=`...) and
the browser lists alike. Related ids filter within the already-scoped queryset, so another
organization's id simply matches nothing. Given the organization (the browser), the people
filters render as a select of its members; the value is an e-mail either way."""

from __future__ import annotations

import django_filters as df
from django import forms

from accounts.filters import DateTimeFilter, IdFilter, SearchFilterSet
from accounts.models import Organization
from journey.forms import member_choices
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
    open_project_q,
)


def _email_filter(field_name: str, label: str, empty_label: str) -> df.CharFilter:
    return df.CharFilter(
        field_name=field_name,
        lookup_expr="iexact",
        label=label,
        help_text="E-mail",
        widget=forms.Select(choices=[("", empty_label)]),
    )


class OrgFilterSet(SearchFilterSet):
    """People filters (`people`) offer the organization's members when it is given."""

    people: tuple[str, ...] = ()

    def __init__(self, *args, organization: Organization | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if organization is not None:
            for name in self.people:
                widget = self.filters[name].extra["widget"]
                self.filters[name].extra["widget"] = forms.Select(
                    choices=[*widget.choices[:1], *member_choices(organization)]
                )


def _modality_filter(field: str):
    def method(queryset, name, value):
        # JSON list membership that works on SQLite and PostgreSQL alike: codes are quoted
        # tokens in the stored JSON text, and no code contains another in quotes.
        return queryset.filter(**{f"{field}__icontains": f'"{value}"'})

    return method


class ClientFilter(OrgFilterSet):
    search_fields = ("name", "notes")
    people = ("account_manager",)
    segment = df.ChoiceFilter(choices=Segment.choices, empty_label="All segments")
    service_model = df.ChoiceFilter(choices=ServiceModel.choices, empty_label="All models")
    status = df.ChoiceFilter(choices=ClientStatus.choices, empty_label="All statuses")
    region = df.ChoiceFilter(choices=Region.choices, empty_label="All regions")
    modality = df.ChoiceFilter(
        choices=Modality.choices,
        method=_modality_filter("modalities"),
        help_text="Clients working in this modality.",
        empty_label="All modalities",
    )
    account_manager = _email_filter(
        "account_manager__email", "Account manager", "All account managers"
    )

    class Meta:
        model = Client
        fields = ["segment", "service_model", "status", "region", "modality", "account_manager"]


class ContactFilter(SearchFilterSet):
    search_fields = ("name", "email", "title")
    client = IdFilter(field_name="client_id")
    is_primary = df.BooleanFilter()

    class Meta:
        model = Contact
        fields = ["client", "is_primary"]


class ProjectFilter(OrgFilterSet):
    search_fields = ("name", "code", "client__name", "description")
    people = ("project_manager", "account_manager")
    client = IdFilter(field_name="client_id")
    segment = df.ChoiceFilter(
        field_name="client__segment", choices=Segment.choices, empty_label="All segments"
    )
    service_model = df.ChoiceFilter(
        field_name="client__service_model", choices=ServiceModel.choices, empty_label="All models"
    )
    phase = df.ChoiceFilter(choices=Phase.choices, empty_label="All phases")
    status = df.ChoiceFilter(
        choices=[("open", "Open (active or on hold)"), *ProjectStatus.choices],
        method="filter_status",
        empty_label="All statuses",
        help_text="A status, or `open`: active or on hold.",
    )
    modality = df.ChoiceFilter(choices=Modality.choices, empty_label="All modalities")
    service_type = df.ChoiceFilter(choices=ServiceType.choices, empty_label="All service types")
    project_manager = _email_filter(
        "project_manager__email", "Project manager", "All project managers"
    )
    account_manager = _email_filter(
        "client__account_manager__email", "Account manager", "All account managers"
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

    def filter_status(self, queryset, name, value):
        if value == "open":
            return queryset.filter(open_project_q())
        return queryset.filter(status=value)


class MilestoneFilter(SearchFilterSet):
    search_fields = ("title", "notes")
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


class TouchpointFilter(SearchFilterSet):
    search_fields = ("summary", "client__name")
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


class FeedbackFilter(SearchFilterSet):
    search_fields = ("comment",)
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
