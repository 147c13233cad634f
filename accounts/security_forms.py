"""Forms of the account-security pages: password reset, second-factor codes."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.template import loader
from django.urls import reverse

from accounts.outbox import email_enqueue
from accounts.two_factor import password_reset_email_allowed

log = logging.getLogger(__name__)


def reset_link_validity() -> str:
    """How long a reset link works, in words ("1 hour", "30 minutes")."""
    minutes = max(1, settings.PASSWORD_RESET_TIMEOUT // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, with the link built from SITE_URL (never the request's Host
    header) and the e-mail sent through the outbox. An unknown address, or one that had its
    hourly share of e-mails, gets the same answer and no e-mail."""

    email = forms.EmailField(
        label="E-mail",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def save(self, *args, **kwargs):
        email = self.cleaned_data["email"]
        if not password_reset_email_allowed(email):
            log.warning("Password reset e-mails for one address over the hourly limit.")
            return
        kwargs["domain_override"] = urlsplit(settings.SITE_URL).netloc
        kwargs["request"] = None
        super().save(*args, **kwargs)

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        path = reverse(
            "accounts:password_reset_confirm",
            kwargs={"uidb64": context["uid"], "token": context["token"]},
        )
        context = {
            **context,
            "reset_url": settings.SITE_URL + path,
            "valid_for": reset_link_validity(),
        }
        subject = loader.render_to_string(subject_template_name, context)
        body = loader.render_to_string(email_template_name, context)
        email_enqueue(organization=None, to=[to_email], subject=subject.strip(), body=body)


class CodeForm(forms.Form):
    """A code from the authenticator app (6 digits) or a backup code."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autofocus": True,
                "spellcheck": "false",
            }
        ),
    )


class TotpConfirmForm(forms.Form):
    code = forms.CharField(
        label="6-digit code from the app",
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
