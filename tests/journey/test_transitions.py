"""The journey state machine: every allowed and every refused move."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404
from django.utils import timezone

from accounts.errors import PermissionDeniedError
from accounts.models import AuditEvent
from journey.errors import JourneyError
from journey.models import PhaseTransition, Project
from journey.selectors import project_phase_stays, project_timeline
from journey.services import allowed_moves, project_transition
from tests.factories import ProjectFactory
from tests.journey.helpers import PHASES, journal_state, project_in

TARGETS = [*PHASES, "lost", "completed", "cancelled", "on_hold", "active"]
OPEN_STATES = [(p, s) for p in PHASES for s in ("active", "on_hold")]
TERMINAL_STATES = [("assess", "lost"), ("close_out", "completed"), ("plan", "cancelled")]
NEXT = dict(zip(PHASES, [*PHASES[1:], None], strict=True))


def expected_for_non_admin(phase: str, status: str, to: str) -> tuple[str, str, str] | None:
    """(kind, phase after, status after) per SPEC's journey rules, or None for a refusal."""
    if status in ("lost", "completed", "cancelled"):
        return None
    if to == "cancelled":
        return ("cancelled", phase, "cancelled")
    if status == "on_hold":
        return ("resumed", phase, "active") if to == "active" else None
    if to == "on_hold":
        return ("on_hold", phase, "on_hold")
    if to == "lost":
        return ("lost", "assess", "lost") if phase == "assess" else None
    if to == "completed":
        return ("completed", "close_out", "completed") if phase == "close_out" else None
    if to == NEXT[phase]:
        return ("won" if phase == "assess" else "advanced", to, "active")
    return None


CASES = [(phase, status, to) for (phase, status) in OPEN_STATES + TERMINAL_STATES for to in TARGETS]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("phase", "status", "to"), CASES, ids=[f"{p}/{s}->{t}" for p, s, t in CASES]
)
def test_every_move_for_an_account_manager(am, phase, status, to):
    project = project_in(am, phase, status)
    expected = expected_for_non_admin(phase, status, to)
    before = journal_state(project)
    if expected is None:
        with pytest.raises(JourneyError) as err:
            project_transition(actor=am, project_id=project.pk, to=to)
        assert err.value.field in ("to", "reason")
        assert err.value.message
        assert journal_state(project) == before
        return
    kind, new_phase, new_status = expected
    result = project_transition(actor=am, project_id=project.pk, to=to, note="moved in test")
    assert (result.phase, result.status) == (new_phase, new_status)
    fresh = Project.objects.for_organization(am.organization).get(pk=project.pk)
    assert (fresh.phase, fresh.status, fresh.journal_seq) == (new_phase, new_status, before[2] + 1)
    last = PhaseTransition.objects.for_organization(am.organization).filter(project=project).last()
    assert (last.kind, last.from_phase, last.to_phase, last.from_status, last.to_status) == (
        kind,
        phase,
        new_phase,
        status,
        new_status,
    )
    assert last.by == am.user and last.note == "moved in test"
    event = AuditEvent.objects.for_organization(am.organization).order_by("-id").first()
    assert event.action == "transition" and event.object_id == project.pk
    assert event.changes["kind"] == [None, kind]
    if new_phase != phase:
        assert event.changes["phase"] == [phase, new_phase]
    if new_status != status:
        assert event.changes["status"] == [status, new_status]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("phase", "to"),
    [
        (p, t)
        for p in PHASES
        for t in PHASES
        if abs(PHASES.index(t) - PHASES.index(p)) > 1 or PHASES.index(t) < PHASES.index(p)
    ],
)
def test_admin_corrects_backward_or_skipping_with_a_reason(admin, phase, to):
    project = project_in(admin, phase)
    before = journal_state(project)
    with pytest.raises(JourneyError) as err:
        project_transition(actor=admin, project_id=project.pk, to=to)
    assert err.value.field == "reason"
    assert journal_state(project) == before

    result = project_transition(
        actor=admin, project_id=project.pk, to=to, reason="Entered in the wrong phase"
    )
    assert result.phase == to and result.status == "active"
    last = (
        PhaseTransition.objects.for_organization(admin.organization).filter(project=project).last()
    )
    assert (last.kind, last.from_phase, last.to_phase, last.reason) == (
        "corrected",
        phase,
        to,
        "Entered in the wrong phase",
    )
    event = AuditEvent.objects.for_organization(admin.organization).order_by("-id").first()
    assert event.reason == "Entered in the wrong phase"
    assert event.changes["phase"] == [phase, to]


@pytest.mark.django_db
def test_non_admin_backward_is_refused_even_with_a_reason(am):
    project = project_in(am, "plan")
    before = journal_state(project)
    with pytest.raises(JourneyError, match="one phase at a time") as err:
        project_transition(actor=am, project_id=project.pk, to="assess", reason="oops")
    assert err.value.field == "to"
    assert journal_state(project) == before


@pytest.mark.django_db
def test_skip_message_names_the_next_phase(am):
    project = project_in(am, "initiate")
    with pytest.raises(JourneyError) as err:
        project_transition(actor=am, project_id=project.pk, to="execute")
    assert err.value.message == (
        "Projects move one phase at a time: from initiate the next phase is plan. "
        "Only an admin can move past a phase, giving a reason."
    )


@pytest.mark.django_db
def test_future_at_is_refused(am):
    project = project_in(am, "assess")
    before = journal_state(project)
    with pytest.raises(JourneyError, match="in the future") as err:
        project_transition(
            actor=am,
            project_id=project.pk,
            to="initiate",
            at=timezone.now() + dt.timedelta(minutes=5),
        )
    assert err.value.field == "at"
    assert journal_state(project) == before


@pytest.mark.django_db
def test_at_before_previous_transition_is_refused_and_equal_is_allowed(am):
    project = project_in(am, "initiate", start_days_ago=50)  # entered initiate 49 days ago
    entered = (
        PhaseTransition.objects.for_organization(am.organization).filter(project=project).last().at
    )
    before = journal_state(project)
    with pytest.raises(JourneyError, match="before the previous move") as err:
        project_transition(
            actor=am, project_id=project.pk, to="plan", at=entered - dt.timedelta(seconds=1)
        )
    assert err.value.field == "at"
    assert journal_state(project) == before
    project_transition(actor=am, project_id=project.pk, to="plan", at=entered)
    assert Project.objects.for_organization(am.organization).get(pk=project.pk).phase == "plan"


@pytest.mark.django_db
def test_naive_or_malformed_at_is_refused(am):
    project = project_in(am, "assess")
    before = journal_state(project)
    with pytest.raises(JourneyError, match="time zone"):
        naive = dt.datetime(2024, 1, 1)  # noqa: DTZ001 - the point of the test
        project_transition(actor=am, project_id=project.pk, to="initiate", at=naive)
    with pytest.raises(JourneyError, match="ISO 8601"):
        project_transition(actor=am, project_id=project.pk, to="initiate", at="last tuesday")
    assert journal_state(project) == before


@pytest.mark.django_db
def test_unknown_target_is_refused(am):
    project = project_in(am, "assess")
    before = journal_state(project)
    with pytest.raises(JourneyError, match="is not a move") as err:
        project_transition(actor=am, project_id=project.pk, to="won")
    assert err.value.field == "to"
    assert journal_state(project) == before


@pytest.mark.django_db
def test_backdated_history_can_be_loaded_in_order(am):
    t0 = timezone.now() - dt.timedelta(days=300)
    project = ProjectFactory(client__organization=am.organization, opened_at=t0)
    steps = [
        ("initiate", 10),
        ("plan", 25),
        ("on_hold", 30),
        ("active", 40),
        ("execute", 60),
        ("close_out", 200),
        ("completed", 230),
    ]
    for to, day in steps:
        project_transition(actor=am, project_id=project.pk, to=to, at=t0 + dt.timedelta(days=day))
    timeline = list(project_timeline(organization=am.organization, project_id=project.pk))
    assert [t.kind for t in timeline] == [
        "opened",
        "won",
        "advanced",
        "on_hold",
        "resumed",
        "advanced",
        "advanced",
        "completed",
    ]
    spans = project_phase_stays(organization=am.organization, project_id=project.pk)
    # Time on hold counts in the phase's duration.
    assert [(s.phase, s.duration_days) for s in spans] == [
        ("assess", 10.0),
        ("initiate", 15.0),
        ("plan", 35.0),
        ("execute", 140.0),
        ("close_out", 30.0),
    ]
    assert spans[-1].left_by == "completed"


@pytest.mark.django_db
def test_project_manager_moves_only_own_projects(org, pm, make_actor):
    own = project_in(pm, "plan", project_manager=pm.user)
    other_pm = make_actor(org, "project_manager")
    theirs = project_in(pm, "plan", project_manager=other_pm.user)
    own = project_transition(actor=pm, project_id=own.pk, to="execute")
    before = journal_state(theirs)
    with pytest.raises(PermissionDeniedError, match="projects they manage"):
        project_transition(actor=pm, project_id=theirs.pk, to="execute")
    assert journal_state(theirs) == before
    assert allowed_moves(theirs, actor=pm) == []
    assert set(allowed_moves(own, actor=pm)) == {"close_out", "on_hold", "cancelled"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "executive"])
def test_read_only_roles_cannot_move(org, make_actor, am, role):
    actor = make_actor(org, role)
    project = project_in(am, "assess")
    before = journal_state(project)
    with pytest.raises(PermissionDeniedError):
        project_transition(actor=actor, project_id=project.pk, to="initiate")
    assert journal_state(project) == before


@pytest.mark.django_db
def test_another_organizations_project_is_not_found(am, other_admin):
    theirs = project_in(other_admin, "assess")
    before = journal_state(theirs)
    with pytest.raises(Http404):
        project_transition(actor=am, project_id=theirs.pk, to="initiate")
    assert journal_state(theirs) == before


@pytest.mark.django_db
def test_allowed_moves_match_the_rules(am):
    project = project_in(am, "assess")
    assert allowed_moves(project, actor=am) == ["initiate", "lost", "cancelled", "on_hold"]
    held = project_in(am, "execute", "on_hold")
    assert allowed_moves(held, actor=am) == ["cancelled", "active"]
    assert allowed_moves(project_in(am, "assess", "lost"), actor=am) == []
