"""`Authorization: Bearer <api key>` for integrations."""

from __future__ import annotations

import time

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from rest_framework import authentication, exceptions

from accounts.services import api_key_authenticate
from accounts.tenancy import organization_scope_enter


class ApiKeyPrincipal:
    """request.user for a key: authenticated, but not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    pk = None
    id = None
    email = ""

    def __init__(self, key):
        self.key = key

    def __str__(self) -> str:
        return f"api-key:{self.key.name}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        address = get_client_ip_address(request._request) or "unknown"
        wait = _failures_wait(address)
        if wait:
            raise exceptions.Throttled(
                wait=wait, detail="Too many invalid API keys from this address."
            )
        if len(header) != 2:
            _failure_record(address)
            raise exceptions.AuthenticationFailed("Send the key as 'Authorization: Bearer <key>'.")
        try:
            raw = header[1].decode()
        except UnicodeError:
            _failure_record(address)
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        key = api_key_authenticate(raw)
        if key is None:
            _failure_record(address)
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API key.")
        # The rest of the request sees this organization's rows (row-level security); the
        # middleware's scope block ends it with the request.
        organization_scope_enter(key.organization)
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


# Failed key authentications per client address (the address django-axes sees): after
# API_KEY_FAILURE_LIMIT in one API_KEY_FAILURE_WINDOW, every key from that address gets a
# 429 with Retry-After until the window (started by the first failure) ends.
def _failure_keys(address: str) -> tuple[str, str]:
    return f"api-key-failures:{address}", f"api-key-failures-since:{address}"


def _failures_wait(address: str) -> int:
    """Seconds until this address may try keys again (0: it may now)."""
    count_key, since_key = _failure_keys(address)
    values = cache.get_many([count_key, since_key])
    if values.get(count_key, 0) < settings.API_KEY_FAILURE_LIMIT:
        return 0
    since = values.get(since_key) or time.time()
    return max(1, int(since + settings.API_KEY_FAILURE_WINDOW - time.time()) + 1)


def _failure_record(address: str) -> None:
    count_key, since_key = _failure_keys(address)
    window = settings.API_KEY_FAILURE_WINDOW
    cache.add(since_key, time.time(), timeout=window)
    cache.add(count_key, 0, timeout=window)
    try:
        cache.incr(count_key)
    except ValueError:  # the window ended between add and incr
        cache.set(count_key, 1, timeout=window)
