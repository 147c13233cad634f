"""Browser forms: they check the shape of the input and hand it to a service, which decides.

A form never decides a rule of the journey; a `JourneyError` from the service is added back
to the form on its field (`accounts.web.add_domain_error`), so it shows inline.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import django_filters
from django import forms
from django.utils import timezone

from accounts.models import Organization
from accounts.selectors import member_list
from journey.models import (
    Client,
    ClientStatus,
    Modality,
    Phase,
    Project,
    ProjectStatus,
    Region,
    Segment,
    ServiceModel,
    ServiceType,
    SizeBand,
    TouchpointKind,
    open_project_q,
)

BLANK = [("", "—")]


def member_choices(organization: Organization) -> list[tuple[str, str]]:
    return [
        (m.user.email, f"{m.user.get_full_name()} ({m.user.email})")
        for m in member_list(organization=organization)
    ]


def org_timezone(organization: Organization) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(organization.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


class LocalDateTimeField(forms.DateTimeField):
    """A `datetime-local` input, read in the organization's time zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, *args, tz: dt.tzinfo = dt.UTC, **kwargs):
        self.tz = tz
        kwargs.setdefault("input_formats", ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"])
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        result = super().to_python(value)
        if result is not None:
            result = result.replace(tzinfo=None).replace(tzinfo=self.tz)
        return result


class OrgForm(forms.Form):
    def __init__(self, *args, organization: Organization, **kwargs):
        self.organization = organization
        super().__init__(*args, **kwargs)


# --- clients and contacts -------------------------------------------------------------------
class ClientForm(OrgForm):
    name = forms.CharField(max_length=200)
    segment = forms.ChoiceField(choices=BLANK + list(Segment.choices))
    service_model = forms.ChoiceField(
        choices=[("", "Default for the segment"), *ServiceModel.choices],
        required=False,
        help_text="Big and mid-size pharma default to transactional, everyone else to consultative.",
    )
    size_band = forms.ChoiceField(choices=BLANK + list(SizeBand.choices), required=False)
    modalities = forms.MultipleChoiceField(
        choices=Modality.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    account_manager = forms.ChoiceField(required=False)
    region = forms.ChoiceField(choices=BLANK + list(Region.choices), required=False)
    status = forms.ChoiceField(choices=ClientStatus.choices, initial=ClientStatus.PROSPECT)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account_manager"].choices = BLANK + member_choices(self.organization)

    @staticmethod
    def initial_for(client: Client) -> dict:
        return {
            "name": client.name,
            "segment": client.segment,
            "service_model": client.service_model,
            "size_band": client.size_band,
            "modalities": client.modalities,
            "account_manager": client.account_manager.email if client.account_manager else "",
            "region": client.region,
            "status": client.status,
            "notes": client.notes,
        }

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["account_manager"] = data["account_manager"] or None
        return data


class ContactForm(OrgForm):
    name = forms.CharField(max_length=200)
    email = forms.EmailField(required=False)
    title = forms.CharField(max_length=200, required=False)
    phone = forms.CharField(max_length=50, required=False)
    is_primary = forms.BooleanField(required=False, label="Primary contact")


# --- touchpoints ----------------------------------------------------------------------------
class TouchpointForm(OrgForm):
    kind = forms.ChoiceField(choices=TouchpointKind.choices, initial=TouchpointKind.MEETING)
    at = forms.DateTimeField(label="When")
    project = forms.ChoiceField(required=False, label="About project")
    senior_leader_present = forms.BooleanField(required=False, label="Senior leader present")
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, client: Client, projects=(), **kwargs):
        super().__init__(*args, **kwargs)
        tz = org_timezone(self.organization)
        self.fields["at"] = LocalDateTimeField(label="When", tz=tz)
        self.fields["project"].choices = [("", "— (the client in general)")] + [
            (str(p.pk), f"{p.code} · {p.name}") for p in projects
        ]
        self.client = client
        if not self.is_bound:
            self.initial.setdefault("at", timezone.now().astimezone(tz).replace(second=0))

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["client"] = self.client.pk
        data["project"] = data["project"] or None
        return data


# --- projects -------------------------------------------------------------------------------
class ProjectForm(OrgForm):
    name = forms.CharField(max_length=200)
    code = forms.CharField(
        max_length=40, help_text="Unique in the organization, e.g. BIO-2026-014."
    )
    client = forms.ChoiceField()
    modality = forms.ChoiceField(choices=BLANK + list(Modality.choices))
    service_type = forms.ChoiceField(choices=BLANK + list(ServiceType.choices), required=False)
    project_manager = forms.ChoiceField(required=False)
    executive_sponsor = forms.ChoiceField(required=False)
    contract_value = forms.DecimalField(
        required=False, min_value=0, decimal_places=2, max_digits=16
    )
    currency = forms.CharField(max_length=3, initial="USD")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, clients=(), creating: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = BLANK + [(str(c.pk), c.name) for c in clients]
        people = BLANK + member_choices(self.organization)
        self.fields["project_manager"].choices = people
        self.fields["executive_sponsor"].choices = people
        if creating:
            self.fields["opened_at"] = LocalDateTimeField(
                required=False,
                label="Assessment started",
                help_text="When the RFP or first request came in; empty means now.",
                tz=org_timezone(self.organization),
            )

    @staticmethod
    def initial_for(project: Project) -> dict:
        return {
            "name": project.name,
            "code": project.code,
            "client": str(project.client_id),
            "modality": project.modality,
            "service_type": project.service_type,
            "project_manager": project.project_manager.email if project.project_manager else "",
            "executive_sponsor": (
                project.executive_sponsor.email if project.executive_sponsor else ""
            ),
            "contract_value": project.contract_value,
            "currency": project.currency,
            "description": project.description,
        }

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        for person in ("project_manager", "executive_sponsor"):
            data[person] = data[person] or None
        if data.get("contract_value") is not None:
            data["contract_value"] = str(data["contract_value"])
        if "opened_at" in data and data["opened_at"] is None:
            del data["opened_at"]
        return data


class TransitionForm(OrgForm):
    """A move of the journey. Which moves exist is the service's business (`plan_move`)."""

    to = forms.CharField(max_length=20)
    at = forms.DateTimeField(required=False)
    note = forms.CharField(required=False, max_length=2000)
    reason = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["at"] = LocalDateTimeField(
            required=False, label="Back-date to", tz=org_timezone(self.organization)
        )


class MilestoneForm(OrgForm):
    title = forms.CharField(max_length=200)
    phase = forms.ChoiceField(choices=Phase.choices)
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


# --- list filters (django-filter) -----------------------------------------------------------
class ClientFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    segment = django_filters.ChoiceFilter(choices=Segment.choices, empty_label="All segments")
    service_model = django_filters.ChoiceFilter(
        choices=ServiceModel.choices, empty_label="All models"
    )
    modality = django_filters.ChoiceFilter(
        choices=Modality.choices, method="with_modality", empty_label="All modalities"
    )
    status = django_filters.ChoiceFilter(choices=ClientStatus.choices, empty_label="All statuses")
    account_manager = django_filters.ChoiceFilter(
        method="managed_by", empty_label="All account managers", label="Account manager"
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["account_manager"].extra["choices"] = member_choices(organization)

    def search(self, queryset, name, value):
        return queryset.filter(name__icontains=value.strip()) if value.strip() else queryset

    def with_modality(self, queryset, name, value):
        # JSON list of codes; the quoted code matches one element exactly on SQLite and PG.
        return queryset.filter(modalities__icontains=f'"{value}"')

    def managed_by(self, queryset, name, value):
        return queryset.filter(account_manager__email=value)


class ProjectFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    phase = django_filters.ChoiceFilter(choices=Phase.choices, empty_label="All phases")
    status = django_filters.ChoiceFilter(
        choices=[("open", "Open (active or on hold)"), *ProjectStatus.choices],
        method="with_status",
        empty_label="All statuses",
    )
    segment = django_filters.ChoiceFilter(
        field_name="client__segment", choices=Segment.choices, empty_label="All segments"
    )
    modality = django_filters.ChoiceFilter(choices=Modality.choices, empty_label="All modalities")
    project_manager = django_filters.ChoiceFilter(
        method="managed_by", empty_label="All project managers", label="Project manager"
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["project_manager"].extra["choices"] = member_choices(organization)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        from django.db.models import Q

        return queryset.filter(
            Q(name__icontains=value) | Q(code__icontains=value) | Q(client__name__icontains=value)
        )

    def with_status(self, queryset, name, value):
        if value == "open":
            return queryset.filter(open_project_q())
        return queryset.filter(status=value)

    def managed_by(self, queryset, name, value):
        return queryset.filter(project_manager__email=value)
