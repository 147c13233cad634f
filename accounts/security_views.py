"""Account security pages: the Security page (two-factor, backup codes, sessions, the
organization's 2FA rule), the second login step, password change and reset by e-mail."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import two_factor
from accounts.errors import DomainError
from accounts.security_forms import (
    CodeForm,
    PasswordResetForm,
    TotpConfirmForm,
    reset_link_validity,
)
from accounts.selectors import memberships_for_user
from accounts.views import LANDING
from accounts.web import add_domain_error, org_view


def _safe_next(request: HttpRequest, value: str | None) -> str | None:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return None


def _landing(request: HttpRequest) -> str:
    membership = next(iter(memberships_for_user(user=request.user)), None)
    name = LANDING.get(membership.role) if membership else None
    return resolve_url(name or settings.LOGIN_REDIRECT_URL)


# --- The second login step ----------------------------------------------------------------
@never_cache
@login_required
def login_verify(request: HttpRequest) -> HttpResponse:
    """After the password, a user with an authenticator enters a code (or a backup code)."""
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if not two_factor.session_two_factor_pending(request):
        return redirect(next_url or _landing(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.two_factor_code_verify(
                user=request.user, code=form.cleaned_data["code"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            two_factor.session_two_factor_verified(request, device)
            if isinstance(device, StaticDevice):
                left = two_factor.backup_codes_remaining(user=request.user)
                messages.warning(
                    request,
                    f"You used a backup code; {left} left. Make new ones on the Security page.",
                )
            return redirect(next_url or _landing(request))
    return render(
        request,
        "accounts/security/verify.html",
        {"form": form, "next": next_url or "", "auth_layout": True},
    )


# --- The Security page ---------------------------------------------------------------------
def _security_context(request: HttpRequest) -> dict:
    user = request.user
    device = two_factor.totp_device_get(user=user)
    membership = request.membership
    is_admin = membership is not None and membership.role == "admin"
    return {
        "device": device,
        "backup_left": two_factor.backup_codes_remaining(user=user) if device else 0,
        "admin_required": bool(device) and two_factor.user_admin_two_factor_required(user=user),
        "is_admin": is_admin,
        "session_hours": round(settings.SESSION_COOKIE_AGE / 3600, 1),
        "disable_form": CodeForm(prefix="disable"),
    }


@never_cache
@login_required
def security(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/security/security.html", _security_context(request))


@never_cache
@login_required
def totp_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator: start (a new secret), scan or type it, confirm with a code;
    then the backup codes are shown, once."""
    user = request.user
    if two_factor.totp_device_get(user=user) is not None:
        messages.info(request, "Two-factor authentication is already on.")
        return redirect("accounts:security")
    form = TotpConfirmForm(request.POST if "code" in request.POST else None)
    if request.method == "POST" and "start" in request.POST:
        two_factor.totp_setup_start(user=user)
        return redirect("accounts:totp_setup")
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = two_factor.totp_setup_confirm(user=user, code=form.cleaned_data["code"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            two_factor.session_two_factor_verified(request, device)
            update_session_auth_hash(request, user)  # this session stays; the others end
            return render(
                request, "accounts/security/backup_codes.html", {"codes": codes, "new": True}
            )
    pending = two_factor.totp_pending_get(user=user)
    context = {"form": form, "pending": pending}
    if pending is not None:
        context["qr_svg"] = two_factor.totp_qr_svg(pending)
        context["secret"] = two_factor.totp_secret_display(pending)
    return render(request, "accounts/security/totp_setup.html", context)


@never_cache
@login_required
@require_POST
def backup_codes_regenerate(request: HttpRequest) -> HttpResponse:
    try:
        codes = two_factor.backup_codes_regenerate(user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:security")
    return render(request, "accounts/security/backup_codes.html", {"codes": codes})


@never_cache
@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST, prefix="disable")
    if form.is_valid():
        try:
            two_factor.two_factor_disable(user=request.user, code=form.cleaned_data["code"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            two_factor.session_two_factor_off(request)
            messages.success(request, "Two-factor authentication is off.")
            return redirect("accounts:security")
    context = {**_security_context(request), "disable_form": form}
    return render(request, "accounts/security/security.html", context, status=400)


@login_required
@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    """End every other session of the user; this one stays logged in."""
    two_factor.user_sessions_end(user=request.user)
    update_session_auth_hash(request, request.user)
    messages.success(request, "Every other session is logged out; this one stays.")
    return redirect("accounts:security")


@org_view
@require_POST
def organization_two_factor(request: HttpRequest) -> HttpResponse:
    """Admins: require (or not) a second factor of the active organization's admins."""
    required = request.POST.get("required") == "1"
    try:
        two_factor.organization_two_factor_set(
            actor=request.actor, required=required, verified=request.user.is_verified()
        )
    except DomainError as exc:
        if exc.code == "permission_denied":
            raise
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            "Admins of this organization must now use two-factor authentication."
            if required
            else "Two-factor authentication is no longer required of admins.",
        )
    return redirect("accounts:security")


# --- Passwords -----------------------------------------------------------------------------
class PasswordChangeView(auth_views.PasswordChangeView):
    """Changing the password keeps this session and ends every other one."""

    template_name = "accounts/password/change_form.html"
    success_url = reverse_lazy("accounts:security")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Password changed. Your other sessions are logged out.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "accounts/password/reset_form.html"
    email_template_name = "accounts/password/reset_email.txt"
    subject_template_name = "accounts/password/reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password/reset_done.html"
    extra_context = {"valid_for": reset_link_validity}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The e-mailed link: once, until PASSWORD_RESET_TIMEOUT. The new password changes the
    session hash, so every session of the user ends; they log in again (with 2FA)."""

    template_name = "accounts/password/reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["reset_url"] = reverse("accounts:password_reset")
        return context


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password/reset_complete.html"
