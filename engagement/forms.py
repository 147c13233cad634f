"""Browser forms of the engagement features: alert actions, survey requests and the admins'
settings. They check the input's shape; the services decide."""

from __future__ import annotations

from django import forms

from accounts.errors import DomainError
from journey.forms import BLANK, OrgForm
from journey.models import Phase, ServiceModel


class AlertResolveForm(forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AlertSnoozeForm(forms.Form):
    # The date rule (after today, within a year) is the service's; the form reads a date.
    until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Snooze until")


class SurveyRequestForm(OrgForm):
    """Ask a client contact for a score now. Which contact may be asked is the service's."""

    contact = forms.ChoiceField()
    kind = forms.ChoiceField(choices=[("csat", "CSAT (1-5)"), ("nps", "NPS (0-10)")])
    phase = forms.ChoiceField(choices=Phase.choices)

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = BLANK + [
            (str(c.pk), f"{c.name}{' <' + c.email + '>' if c.email else ' (no e-mail)'}")
            for c in contacts
        ]


class PlaybookForm(forms.Form):
    """One service model's playbook: a day field per phase for cadence and target. The ranges
    are the service's rules; a refusal about a whole day map shows above its row."""

    GROUPS = ("cadence_days", "target_days")

    senior_leader_expected = forms.BooleanField(required=False, label="A senior leader joins")
    senior_leader_every_days = forms.CharField(
        required=False, label="Senior leader every (days)", max_length=10
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, playbook=None, **kwargs):
        if playbook is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(playbook)
        kwargs.setdefault("prefix", f"pb{playbook.pk}" if playbook is not None else None)
        super().__init__(*args, **kwargs)
        for group in self.GROUPS:
            for phase in Phase.order():
                self.fields[f"{group}__{phase}"] = forms.CharField(
                    required=False,
                    max_length=10,
                    label=Phase(phase).label,
                    widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
                )
        self.group_errors: dict[str, str] = {}

    @staticmethod
    def initial_for(playbook) -> dict:
        data = {
            "senior_leader_expected": playbook.senior_leader_expected,
            "senior_leader_every_days": playbook.senior_leader_every_days or "",
            "notes": playbook.notes,
        }
        for group in PlaybookForm.GROUPS:
            values = getattr(playbook, group) or {}
            for phase in Phase.order():
                value = values.get(phase)
                data[f"{group}__{phase}"] = "" if value is None else value
        return data

    def rows(self, group: str) -> list:
        return [self[f"{group}__{phase}"] for phase in Phase.order()]

    def service_data(self) -> dict:
        data = {
            "senior_leader_expected": self.cleaned_data["senior_leader_expected"],
            "senior_leader_every_days": self.cleaned_data["senior_leader_every_days"].strip()
            or None,
            "notes": self.cleaned_data["notes"],
        }
        for group in self.GROUPS:
            data[group] = {
                phase: self.cleaned_data[f"{group}__{phase}"].strip() or None
                for phase in Phase.order()
            }
        return data

    def add_service_error(self, exc: DomainError) -> None:
        if exc.field in self.GROUPS:
            self.group_errors[exc.field] = exc.message
        else:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)


class HealthWeightsForm(forms.Form):
    """The weights of the health components (whole numbers; their range is the service's)."""

    def __init__(self, *args, components=(), **kwargs):
        super().__init__(*args, **kwargs)
        for name in components:
            self.fields[name] = forms.IntegerField(
                label=name.capitalize(), widget=forms.NumberInput(attrs={"step": 1})
            )


class GateSurveysForm(forms.Form):
    """Which service models get automatic gate surveys (ticked: on)."""

    enabled = forms.MultipleChoiceField(
        choices=ServiceModel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Send gate surveys to",
    )

    def disabled_for(self) -> list[str]:
        on = set(self.cleaned_data["enabled"])
        return [m for m in ServiceModel.values if m not in on]
