"""Browser forms: they check the shape of the input and hand it to a service, which decides.

A form never decides a rule of the journey; a `JourneyError` from the service is added back
to the form on its field (`accounts.web.add_domain_error`), so it shows inline.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

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
    Region,
    Segment,
    ServiceModel,
    ServiceType,
    SizeBand,
    TouchpointKind,
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

    @staticmethod
    def initial_for(contact) -> dict:
        return {f: getattr(contact, f) for f in ("name", "email", "title", "phone", "is_primary")}


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
