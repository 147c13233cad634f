import datetime as dt
import zoneinfo

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from accounts.models import ApiKey, Organization, Role


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
    ("accounts.invitation", "Invitations"),
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


class InviteForm(forms.Form):
    """Invite someone by e-mail; the service decides (already a member, a pending link)."""

    email = forms.EmailField(
        label="E-mail", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class InvitationSignupForm(forms.Form):
    """Someone invited who has no account yet: a name and a password (validated by the
    service with Django's password validators)."""

    full_name = forms.CharField(
        label="Your name",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password_confirm = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("password")
            and data.get("password_confirm")
            and data["password"] != data["password_confirm"]
        ):
            self.add_error("password_confirm", "The two passwords differ.")
        return data

    def service_data(self) -> dict:
        return {
            "full_name": self.cleaned_data["full_name"],
            "password": self.cleaned_data["password"],
        }


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What uses the key, e.g. 'ERP sync'.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    scope = forms.ChoiceField(choices=ApiKey.Scope.choices, initial=ApiKey.Scope.READ)
    expires_at = forms.DateField(
        required=False,
        label="Expires on",
        help_text="The key works until the end of this day; empty: until revoked.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def service_data(self) -> dict:
        day = self.cleaned_data["expires_at"]
        expires_at = None
        if day is not None:
            # The end of the chosen day where the organization works.
            tz = zoneinfo.ZoneInfo(self.organization.timezone)
            day = min(day, dt.date.max - dt.timedelta(days=1))  # the service refuses it
            expires_at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return {
            "name": self.cleaned_data["name"],
            "scope": self.cleaned_data["scope"],
            "expires_at": expires_at,
        }
