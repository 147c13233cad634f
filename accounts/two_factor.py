"""Account security: the second factor (TOTP with backup codes, django-otp), the
organization's "admins must use 2FA" rule, "log out everywhere" and the password-reset
e-mail throttle.

A session has a two-factor state (`STATE_SESSION_KEY`): "pending" until a user who has a
confirmed authenticator enters a code, "none" for a user without one. It is set at login
and, for a session logged in any other way (the Django admin's login page), found out once
on its first request (`session_two_factor_pending`), so no login path skips the second step.
Whether the session is verified is django-otp's (`request.user.is_verified()`).
"""

from __future__ import annotations

import hashlib
import io
import time
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.audit import audit_record
from accounts.errors import DomainError, PermissionDeniedError
from accounts.models import AuditEvent, Membership, Organization, Role, User
from accounts.permissions import Actor

STATE_SESSION_KEY = "two_factor"
PENDING = "pending"
NONE = "none"
BACKUP_CODE_COUNT = 10
TOTP_NAME = "Authenticator app"
BACKUP_NAME = "Backup codes"


# --- Reads --------------------------------------------------------------------------------
def totp_device_get(*, user: User) -> TOTPDevice | None:
    """The user's active (confirmed) authenticator, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def totp_pending_get(*, user: User) -> TOTPDevice | None:
    """An authenticator being set up: not usable to log in until confirmed with a code."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def user_has_two_factor(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def backup_codes_remaining(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def user_admin_two_factor_required(*, user: User) -> bool:
    """Whether an organization the user administers requires admins to use 2FA."""
    return Membership.objects.filter(
        user=user, role=Role.ADMIN, organization__require_admin_two_factor=True
    ).exists()


def totp_secret_display(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// link as an SVG QR code (one path, presentation attributes only, no
    `style`, so the strict CSP allows it inline)."""
    image = qrcode.make(
        device.config_url,
        image_factory=qrcode.image.svg.SvgPathImage,
        box_size=10,
        border=2,
    )
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    if svg.startswith("<?xml"):
        svg = svg.split("?>", 1)[1]
    return svg.replace("<svg ", '<svg class="qr" role="img" aria-label="QR code" ', 1)


# --- Codes --------------------------------------------------------------------------------
def _normalize(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _is_totp_code(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


def _throttled(device) -> bool:
    allowed, _ = device.verify_is_allowed()
    return not allowed


THROTTLED_MESSAGE = "Too many wrong codes. Wait a little and try again."
WRONG_MESSAGE = "That code is not valid. Enter the current 6-digit code or a backup code."


def _verify(device, code: str) -> str | None:
    """None if `device` accepts `code`, else why not. Runs (and commits) in its own
    transaction: a miss is counted by django-otp's throttle even though the caller then
    refuses the request, and a backup code is spent exactly once."""
    with transaction.atomic():
        device = type(device).objects.select_for_update().get(pk=device.pk)
        if _throttled(device):
            return THROTTLED_MESSAGE
        return None if device.verify_token(code) else WRONG_MESSAGE


def two_factor_code_verify(*, user: User, code: str):
    """The device that accepts `code` (a current TOTP code, or an unused backup code which
    is then spent), else a DomainError on `code`. django-otp's throttle counts the misses:
    after one, the next try waits a second, then two, four, ..."""
    code = _normalize(code)
    if _is_totp_code(code):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    elif code:
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    else:
        device = None
    if device is None:
        raise DomainError(WRONG_MESSAGE, field="code")
    problem = _verify(device, code)
    if problem:
        raise DomainError(problem, field="code")
    return device


# --- Writes -------------------------------------------------------------------------------
@transaction.atomic
def totp_setup_start(*, user: User) -> TOTPDevice:
    """A new secret for the user's authenticator app; inactive until confirmed. Restarting
    replaces a setup left unfinished."""
    if user_has_two_factor(user=user):
        raise DomainError("Two-factor authentication is already on.")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def totp_setup_confirm(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """Turn the pending authenticator on once it produced a valid code; returns it and the
    new backup codes (shown once). Every other session of the user ends: each must log in
    again, with the second factor."""
    device = totp_pending_get(user=user)
    if device is None:
        raise DomainError("Start the setup again: there is no authenticator waiting.")
    normalized = _normalize(code)
    if not _is_totp_code(normalized):
        raise DomainError("Enter the 6-digit code your app shows now.", field="code")
    problem = _verify(device, normalized)
    if problem:
        raise DomainError(
            THROTTLED_MESSAGE
            if problem == THROTTLED_MESSAGE
            else "That code does not match. Enter the 6-digit code your app shows now.",
            field="code",
        )
    with transaction.atomic():
        updated = TOTPDevice.objects.filter(pk=device.pk, confirmed=False).update(confirmed=True)
        if not updated:
            raise DomainError("Start the setup again: there is no authenticator waiting.")
        device.refresh_from_db()
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = backup_codes_regenerate(user=user)
        user_sessions_end(user=user)
    return device, codes


@transaction.atomic
def backup_codes_regenerate(*, user: User) -> list[str]:
    """Ten new single-use backup codes; the old ones stop working."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise DomainError("Turn two-factor authentication on first.")
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
    codes = []
    while len(codes) < BACKUP_CODE_COUNT:
        token = StaticToken.random_token()
        if token not in codes:
            codes.append(token)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=t) for t in codes])
    return codes


def two_factor_disable(*, user: User, code: str) -> None:
    """Turn two-factor off: needs a current code (or a backup code), and is refused while an
    organization the user administers requires it."""
    if user_admin_two_factor_required(user=user):
        raise DomainError(
            "An organization you administer requires two-factor authentication for its "
            "admins, so it cannot be turned off.",
            field="code",
            code="required",
        )
    two_factor_code_verify(user=user, code=code)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


def user_sessions_end(*, user: User) -> None:
    """End every session of the user: their session hash includes the generation. The
    caller keeps its own session with `update_session_auth_hash` (or lets it end too)."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])


@transaction.atomic
def organization_two_factor_set(*, actor: Actor, required: bool, verified: bool) -> Organization:
    """Admins only: require (or stop requiring) a second factor of the organization's admins.
    Turning it on needs the acting admin's own second factor, verified in this session
    (`verified`), so nobody locks themselves out with a rule they cannot meet."""
    if not actor.is_admin or actor.user is None:
        raise PermissionDeniedError("Only admins can change the organization's security rules.")
    organization = Organization.objects.select_for_update().get(pk=actor.organization.pk)
    before = organization.require_admin_two_factor
    if required and not verified:
        raise DomainError(
            "Set up two-factor authentication for yourself first.",
            field="require_admin_two_factor",
        )
    if before == required:
        return organization
    organization.require_admin_two_factor = required
    organization.save(update_fields=["require_admin_two_factor"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        instance=organization,
        changes={"require_admin_two_factor": [before, required]},
    )
    actor.organization.require_admin_two_factor = required
    return organization


# --- Login --------------------------------------------------------------------------------
def session_two_factor_start(request, user: User) -> bool:
    """At login: whether the session must pass the second step (and mark it so)."""
    pending = user_has_two_factor(user=user)
    request.session[STATE_SESSION_KEY] = PENDING if pending else NONE
    return pending


def session_two_factor_pending(request) -> bool:
    """Whether this logged-in session still owes its second step (found out and remembered
    once for sessions that did not come through our login page)."""
    user = request.user
    if user.is_verified():
        return False
    state = request.session.get(STATE_SESSION_KEY)
    if state is None:
        state = PENDING if user_has_two_factor(user=user) else NONE
        request.session[STATE_SESSION_KEY] = state
    return state == PENDING


def session_two_factor_verified(request, device) -> None:
    """The session passed its second factor (django-otp remembers the device)."""
    from django_otp import login as otp_login

    otp_login(request, device)
    request.session[STATE_SESSION_KEY] = NONE


def session_two_factor_off(request) -> None:
    from django_otp import DEVICE_ID_SESSION_KEY

    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    request.session[STATE_SESSION_KEY] = NONE
    request.user.otp_device = None


# --- Password reset throttle --------------------------------------------------------------
def password_reset_email_allowed(email: str) -> bool:
    """Count a reset request for this address; False once it had its hourly share. Counted
    whether or not the address has an account, so the answer reveals nothing."""
    digest = hashlib.sha256((email or "").strip().lower().encode()).hexdigest()
    hour = int(time.time() // 3600)
    key = f"password-reset:{digest}:{hour}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count <= settings.PASSWORD_RESET_EMAILS_PER_HOUR
