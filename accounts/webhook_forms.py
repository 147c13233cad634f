"""The webhooks page's forms: shapes only; `accounts.webhooks` decides."""

from __future__ import annotations

from django import forms

from accounts.models import WEBHOOK_EVENTS


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=500,
        help_text="https://… on a public host; every event is POSTed there, signed.",
        widget=forms.URLInput(attrs={"autocomplete": "off", "placeholder": "https://"}),
    )
    events = forms.MultipleChoiceField(
        choices=[(e, e) for e in WEBHOOK_EVENTS],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )
    description = forms.CharField(max_length=200, required=False)


class WebhookEditForm(WebhookForm):
    active = forms.BooleanField(
        required=False, help_text="Switched on again, a disabled endpoint is re-enabled."
    )
