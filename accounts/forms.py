from django import forms
from django.contrib.auth.forms import AuthenticationForm


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": "That e-mail and password do not match an account.",
        "inactive": "This account is inactive.",
    }


AUDITED_TYPES = [
    ("", "Everything"),
    ("journey.client", "Clients"),
    ("journey.contact", "Contacts"),
    ("journey.project", "Projects"),
    ("journey.milestone", "Milestones"),
    ("journey.touchpoint", "Touchpoints"),
    ("journey.feedback", "Feedback"),
    ("engagement.alert", "Alerts"),
    ("engagement.playbook", "Playbooks"),
    ("engagement.engagementsettings", "Engagement settings"),
    ("accounts.membership", "Members"),
    ("accounts.apikey", "API keys"),
    ("accounts.organization", "Organization"),
]


class AuditFilterForm(forms.Form):
    """The audit log's filters; anything malformed is a form error shown above the list."""

    person = forms.CharField(required=False, max_length=200, label="Who (e-mail or key)")
    object_type = forms.ChoiceField(required=False, choices=AUDITED_TYPES, label="What")
    day_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    day_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_person(self):
        value = self.cleaned_data["person"]
        if not value.isprintable():
            raise forms.ValidationError("Only printable characters.")
        return value.strip()
