"""An organization's public id: random, well-formed, unique, and never changed. Keys and
survey links carry it."""

from __future__ import annotations

import pytest

from accounts.models import Organization, is_public_id
from accounts.selectors import organization_get_by_public_id
from accounts.services import organization_create


@pytest.mark.django_db
def test_a_new_organization_gets_its_own_public_id(db):
    first, _, _ = organization_create(slug="one", name="One", admin_email="a@one.example")
    second, _, _ = organization_create(slug="two", name="Two", admin_email="a@two.example")
    assert is_public_id(first.public_id) and is_public_id(second.public_id)
    assert first.public_id != second.public_id
    assert organization_get_by_public_id(public_id=first.public_id) == first


@pytest.mark.django_db
def test_the_public_id_never_changes(org, other_org):
    stored = Organization.objects.get(pk=org.pk)
    before = stored.public_id
    stored.name = "Renamed"
    stored.save()  # other fields change freely
    stored.public_id = other_org.public_id
    with pytest.raises(RuntimeError, match="never changes"):
        stored.save()
    assert Organization.objects.get(pk=org.pk).public_id == before


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["", "abc", "ABCDEFGHIJ", "abcdefghi1", "abcdefghijk", None, 7])
def test_only_a_well_formed_public_id_is_looked_up(org, value, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert organization_get_by_public_id(public_id=value) is None
