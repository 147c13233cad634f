"""Constraints live in the database; a violation surfaces as a domain error, never a 500."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from accounts.permissions import Actor
from journey.errors import JourneyError
from journey.models import (
    Client,
    Contact,
    Feedback,
    Milestone,
    PhaseTransition,
    Project,
    Touchpoint,
)
from journey.service_helpers import save_checked
from journey.services import client_create
from tests.factories import ClientFactory, MembershipFactory, OrganizationFactory, ProjectFactory


def _bad_rows(org):
    """Rows the services would refuse, written straight to the ORM: the database must say no."""
    client = ClientFactory(organization=org, name="Acme")
    project = ProjectFactory(client=client, code="A-1")
    yesterday = timezone.now() - dt.timedelta(days=1)
    return [
        (
            "duplicate client name (case-insensitive)",
            Client(organization=org, name="ACME", segment="biotech", service_model="consultative"),
            "name",
            "A client with this name already exists.",
        ),
        (
            "unknown segment",
            Client(organization=org, name="B", segment="pharma", service_model="consultative"),
            "segment",
            "Invalid value for segment.",
        ),
        (
            "blank client name",
            Client(organization=org, name="", segment="biotech", service_model="consultative"),
            "name",
            "Invalid value for name.",
        ),
        (
            "second primary contact",
            None,
            "is_primary",
            "This client already has a primary contact.",
        ),
        (
            "duplicate project code",
            Project(
                organization=org,
                client=client,
                name="P",
                code="a-1",
                modality="adc",
                opened_at=yesterday,
            ),
            "code",
            "A project with this code already exists.",
        ),
        (
            "unknown modality",
            Project(
                organization=org,
                client=client,
                name="P",
                code="B-1",
                modality="pill",
                opened_at=yesterday,
            ),
            "modality",
            "Invalid value for modality.",
        ),
        (
            "negative contract value",
            Project(
                organization=org,
                client=client,
                name="P",
                code="C-1",
                modality="adc",
                opened_at=yesterday,
                contract_value=-1,
            ),
            "contract_value",
            "Invalid value for contract_value.",
        ),
        (
            "lowercase currency",
            Project(
                organization=org,
                client=client,
                name="P",
                code="D-1",
                modality="adc",
                opened_at=yesterday,
                currency="usd",
            ),
            "currency",
            "Invalid value for currency.",
        ),
        (
            "CSAT of 6",
            Feedback(
                organization=org,
                project=project,
                phase="assess",
                kind="csat",
                score=6,
                responded_at=yesterday,
            ),
            "score",
            "CSAT scores run from 1 to 5, NPS scores from 0 to 10.",
        ),
        (
            "NPS of -1",
            Feedback(
                organization=org,
                project=project,
                phase="assess",
                kind="nps",
                score=-1,
                responded_at=yesterday,
            ),
            "score",
            "CSAT scores run from 1 to 5, NPS scores from 0 to 10.",
        ),
        (
            "score without response time",
            Feedback(organization=org, project=project, phase="assess", kind="nps", score=5),
            "responded_at",
            "Invalid value for responded_at.",
        ),
        (
            "milestone due in 1980",
            Milestone(
                organization=org,
                project=project,
                phase="plan",
                title="T",
                due_date=dt.date(1980, 1, 1),
            ),
            "due_date",
            "Invalid value for due_date.",
        ),
        (
            "milestone completed in 1980",
            Milestone(
                organization=org,
                project=project,
                phase="plan",
                title="T",
                due_date=dt.date(2030, 1, 1),
                completed_at=dt.datetime(1980, 1, 1, tzinfo=dt.UTC),
            ),
            "completed_at",
            "Invalid value for completed_at.",
        ),
        (
            "unknown touchpoint kind",
            Touchpoint(organization=org, client=client, kind="fax", at=yesterday),
            "kind",
            "Invalid value for kind.",
        ),
        (
            "journal entry reusing a sequence number",
            PhaseTransition(
                organization=org,
                project=project,
                seq=1,
                kind="opened",
                to_phase="assess",
                to_status="active",
                at=yesterday,
            ),
            "to",
            "Someone else moved this project a moment ago; reload it and try again.",
        ),
        (
            "correction without a reason",
            PhaseTransition(
                organization=org,
                project=project,
                seq=2,
                kind="corrected",
                from_phase="assess",
                to_phase="plan",
                to_status="active",
                at=yesterday,
            ),
            None,
            "This change breaks a rule of the data.",
        ),
    ]


@pytest.mark.django_db
def test_database_refuses_bad_rows_and_save_checked_names_the_field():
    org = OrganizationFactory()
    rows = _bad_rows(org)
    primary = Contact(
        organization=org,
        client=Client.objects.for_organization(org).get(name="Acme"),
        name="A",
        is_primary=True,
    )
    save_checked(primary)
    for label, row, field, message in rows:
        if row is None:
            row = Contact(organization=org, client=primary.client, name="B", is_primary=True)
        with pytest.raises(IntegrityError), transaction.atomic():
            row.save()  # straight to the database: the constraint itself refuses
        row.pk = None
        with pytest.raises(JourneyError) as err:
            save_checked(row)
        assert (err.value.field, err.value.message) == (field, message), label


@pytest.mark.django_db(transaction=True)
def test_racing_duplicate_creates_get_a_domain_error_not_an_integrity_error():
    """Two users create the same client at once: one wins, the other reads a clear message."""
    org = OrganizationFactory()
    actor = Actor.from_membership(MembershipFactory(organization=org, role="account_manager"))
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def run():
        barrier.wait(timeout=10)
        try:
            outcomes.append(client_create(actor=actor, name="Zeta Therapeutics", segment="biotech"))
        except Exception as exc:
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], JourneyError)
    assert errors[0].as_dict() == {"name": ["A client with this name already exists."]}
    assert Client.objects.for_organization(org).count() == 1
