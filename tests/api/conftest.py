from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.permissions import Actor
from accounts.services import api_key_create


def make_key(organization, scope: str, name: str | None = None) -> str:
    _, raw = api_key_create(
        actor=Actor.system(organization), name=name or f"{scope} key", scope=scope
    )
    return raw


@pytest.fixture
def key_client():
    def _client(organization, scope: str = "write") -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(organization, scope)}")
        return client

    return _client


@pytest.fixture
def session_client():
    def _client(user) -> APIClient:
        client = APIClient(enforce_csrf_checks=False)
        client.force_login(user)
        return client

    return _client
