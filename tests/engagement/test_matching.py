"""PM matching on a crafted team: experience, CSAT on such projects, load; each explained."""

from __future__ import annotations

import pytest
from django.http import Http404

from accounts.models import Role
from engagement.services.matching import project_pm_suggestions
from journey.services import feedback_create
from tests.engagement.conftest import at
from tests.factories import ClientFactory, ProjectFactory
from tests.journey.helpers import project_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(org, make_actor, clock):
    """A biotech biologic project to staff, and five PMs (points worked out by hand):

    Ann   2 completed biotech/biologic (CSAT 5, 4: mean 4.5), 1 open:
          3 x 2 + (4.5 - 3) x 3 - 2 x 1 = 8.5
    Ben   3 completed biotech/biologic (CSAT 2), none open: 9 + (2 - 3) x 3 = 6
    Cleo  completed biotech/ADC and big pharma/biologic (one of the two each): 1 + 1 = 2
    Dan   1 completed biotech/biologic, 3 open: 3 - 6 = -3
    Eve   nothing: 0
    """
    clock(at(0))
    admin = make_actor(org, Role.ADMIN)
    pms = {
        name: make_actor(org, Role.PROJECT_MANAGER, user__full_name=name)
        for name in ["Ann", "Ben", "Cleo", "Dan", "Eve"]
    }
    make_actor(org, Role.ACCOUNT_MANAGER, user__full_name="Al AM")  # not a PM: not ranked
    biotech = ClientFactory(organization=org, segment="biotech")
    pharma = ClientFactory(organization=org, segment="big_pharma")

    def completed(pm, client=biotech, modality="biologic", csat=None):
        project = project_in(
            admin,
            "close_out",
            "completed",
            client=client,
            modality=modality,
            project_manager=pm.user,
        )
        if csat is not None:
            feedback_create(
                actor=admin,
                project=project.pk,
                kind="csat",
                score=csat,
                phase="plan",
                responded_at=at(-1),
            )

    def open_one(pm):
        ProjectFactory(client=pharma, modality="peptide", project_manager=pm.user)

    completed(pms["Ann"], csat=5)
    completed(pms["Ann"], csat=4)
    open_one(pms["Ann"])
    for _ in range(3):
        completed(pms["Ben"])
    feedback_create(  # CSAT 2 on one of Ben's
        actor=admin,
        project=biotech.projects.filter(project_manager=pms["Ben"].user).first().pk,
        kind="csat",
        score=2,
        phase="plan",
        responded_at=at(-1),
    )
    completed(pms["Cleo"], modality="adc")
    completed(pms["Cleo"], client=pharma)
    completed(pms["Dan"])
    for _ in range(3):
        open_one(pms["Dan"])
    target = ProjectFactory(client=biotech, modality="biologic", project_manager=pms["Eve"].user)
    return target, pms


def test_ranking_and_reasons(team, org):
    target, _pms = team
    ranked = project_pm_suggestions(organization=org, project_id=target.pk)
    assert [(c.user.full_name, c.rank, c.score) for c in ranked] == [
        ("Ann", 1, 8.5),
        ("Ben", 2, 6.0),
        ("Cleo", 3, 2.0),
        ("Eve", 4, 0.0),
        ("Dan", 5, -3.0),
    ]
    ann, ben, cleo, eve, dan = ranked
    assert (ann.same_segment_and_modality, ann.csat_avg, ann.csat_n, ann.active_projects) == (
        2,
        4.5,
        2,
        1,
    )
    assert ann.reasons == [
        "2 completed biotech · Biologic project(s)",
        "CSAT 4.5 on such projects (n=2)",
        "1 open project(s) now",
    ]
    assert (ben.same_segment_and_modality, ben.csat_avg) == (3, 2.0)
    assert cleo.same_segment_or_modality == 2 and cleo.reasons[0].startswith("No completed")
    assert eve.is_current and "Current project manager" in eve.reasons
    assert eve.active_projects == 0  # the project being staffed does not count as load
    assert dan.active_projects == 3


def test_ties_go_to_the_lighter_load_then_the_name(org, make_actor, clock):
    clock(at(0))
    a = make_actor(org, Role.PROJECT_MANAGER, user__full_name="Zed")
    make_actor(org, Role.PROJECT_MANAGER, user__full_name="Amy")
    client = ClientFactory(organization=org)
    target = ProjectFactory(client=client, project_manager=a.user)
    ranked = project_pm_suggestions(organization=org, project_id=target.pk)
    assert [c.user.full_name for c in ranked] == ["Amy", "Zed"]


def test_another_organizations_project_is_a_404_and_only_own_pms(team, org, other_world):
    target, _ = team
    with pytest.raises(Http404):
        project_pm_suggestions(organization=other_world.org, project_id=target.pk)
    ranked = project_pm_suggestions(organization=org, project_id=target.pk)
    assert other_world.am.user not in [c.user for c in ranked]


def test_no_project_managers_no_suggestions(world):
    from accounts.models import Membership

    Membership.objects.filter(organization=world.org, role=Role.PROJECT_MANAGER).delete()
    assert project_pm_suggestions(organization=world.org, project_id=world.project.pk) == []
