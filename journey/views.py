"""Browser views. Thin: resolve the organization once, call selectors and services, render a
full page, or for htmx requests just the partial the page includes."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_http_methods, require_POST

from accounts.api.csv_export import serializer_csv_response
from accounts.audit_display import audit_present
from accounts.errors import DomainError, PermissionDeniedError
from accounts.models import Role
from accounts.permissions import Actor, Perm
from accounts.selectors import AuditCursor, audit_events_for_objects
from accounts.web import form_page, org_view, paginate, submit, wants_csv, wants_partial
from journey import services
from journey.api.serializers import ClientOut, ProjectOut
from journey.filters import ClientFilter, ProjectFilter
from journey.forms import (
    ClientForm,
    ContactForm,
    MilestoneForm,
    ProjectForm,
    TouchpointForm,
    TransitionForm,
)
from journey.models import (
    Client,
    Contact,
    Milestone,
    Phase,
    PhaseTransition,
    Project,
    ProjectStatus,
    TransitionKind,
    open_project_q,
)
from journey.selectors import (
    client_get,
    client_list,
    contact_get,
    contact_list,
    feedback_list,
    milestone_get,
    milestone_list,
    project_get,
    project_list,
    project_phase_counts,
    project_timeline,
    touchpoint_list,
    with_client_activity,
    with_overdue_counts,
)
from journey.stays import phase_stays


# --- overview -------------------------------------------------------------------------------
@org_view
def home(request: HttpRequest) -> HttpResponse:
    org, actor = request.organization, request.actor
    counts = project_phase_counts(organization=org)
    projects = project_list(organization=org)
    mine = []
    if actor.role == Role.PROJECT_MANAGER:
        mine = list(projects.open().filter(project_manager=request.user)[:8])
    overdue = milestone_list(organization=org).filter(
        open_project_q("project__"),
        completed_at__isnull=True,
        due_date__lt=timezone.now().date(),
    )
    if actor.role == Role.PROJECT_MANAGER:
        overdue = overdue.filter(project__project_manager=request.user)
    context = {
        "overdue": list(overdue[:8]),
        "phase_counts": [(p, Phase(p).label, n) for p, n in counts.items()],
        "open_total": sum(counts.values()),
        "client_count": client_list(organization=org).count(),
        "recent_projects": list(projects[:10]),
        "my_projects": mine,
        "can_add_client": actor.may(Perm.CLIENT_WRITE),
    }
    return render(request, "journey/home.html", context)


# --- clients --------------------------------------------------------------------------------
@org_view
def clients(request: HttpRequest) -> HttpResponse:
    org = request.organization
    queryset = client_list(organization=org)
    filters = ClientFilter(request.GET or None, queryset=queryset, organization=org)
    if wants_csv(request):  # the current filter, all pages, the API's columns
        return serializer_csv_response(
            request, resource="clients", objects=filters.qs, serializer_class=ClientOut
        )
    page = paginate(request, filters.qs)
    with_client_activity(organization=org, clients=page.object_list)
    context = {
        "filters": filters,
        "page": page,
        "filtered": any(request.GET.get(k) for k in filters.filters),
        "can_add": request.actor.may(Perm.CLIENT_WRITE),
        "can_export_csv": request.actor.may(Perm.EXPORT),
    }
    if wants_partial(request, "results"):
        return render(request, "journey/clients/_results.html", context)
    return render(request, "journey/clients/list.html", context)


@dataclass
class Event:
    """One line of a timeline: a touchpoint, a journey move or a feedback answer."""

    at: object
    kind: str
    title: str
    note: str = ""
    by: str = ""
    project: Project | None = None
    css: str = ""


def _transition_title(t: PhaseTransition) -> str:
    to = Phase(t.to_phase).label
    frm = Phase(t.from_phase).label if t.from_phase else ""
    return {
        TransitionKind.OPENED: "Assessment started",
        TransitionKind.WON: "Won: moved to initiate",
        TransitionKind.ADVANCED: f"Moved from {frm.lower()} to {to.lower()}",
        TransitionKind.LOST: "Lost at assessment",
        TransitionKind.COMPLETED: "Completed",
        TransitionKind.CANCELLED: f"Cancelled in {to.lower()}",
        TransitionKind.ON_HOLD: f"Put on hold in {to.lower()}",
        TransitionKind.RESUMED: f"Resumed in {to.lower()}",
        TransitionKind.CORRECTED: f"Corrected from {frm.lower()} to {to.lower()}",
    }.get(t.kind, t.kind)


CLIENT_PAGE_PROJECTS = 10


def _touchpoint_projects(org, client) -> list[Project]:
    """A touchpoint is about one of the client's open projects (or none)."""
    return list(project_list(organization=org).filter(open_project_q(), client=client))


def _client_activity(request: HttpRequest, client, form: TouchpointForm | None = None) -> dict:
    """The client page's activity section: the log-touchpoint form and the timeline."""
    org, actor = request.organization, request.actor
    # The open projects this actor may log a touchpoint about (a PM: their own), and whether
    # they may log one at all: `Actor.has` decides, per project.
    loggable = [
        p for p in _touchpoint_projects(org, client) if actor.has(Perm.TOUCHPOINT_WRITE, project=p)
    ]
    can_log = actor.has(Perm.TOUCHPOINT_WRITE) or bool(loggable)
    if can_log and form is None:
        form = TouchpointForm(organization=org, client=client, projects=loggable)
    events: list[Event] = []
    for tp in touchpoint_list(organization=org, client_id=client.pk)[:40]:
        events.append(
            Event(
                tp.at,
                "touchpoint",
                tp.get_kind_display()
                + (" · senior leader present" if tp.senior_leader_present else ""),
                tp.summary,
                tp.by.get_full_name() if tp.by else "",
                tp.project,
                "kind-touchpoint",
            )
        )
    moves = (
        PhaseTransition.objects.for_organization(org)
        .filter(project__client=client)
        .select_related("project", "by")
        .order_by("-at", "-id")[:40]
    )
    for t in moves:
        events.append(
            Event(
                t.at,
                "transition",
                _transition_title(t),
                t.note,
                t.by.get_full_name() if t.by else "",
                t.project,
                f"kind-{t.kind}",
            )
        )
    for fb in feedback_list(organization=org).filter(project__client=client, score__isnull=False)[
        :20
    ]:
        events.append(
            Event(
                fb.responded_at,
                "feedback",
                f"{fb.kind.upper()} {fb.score} at {Phase(fb.phase).label.lower()}",
                fb.comment,
                fb.contact.name if fb.contact else "",
                fb.project,
                "kind-feedback",
            )
        )
    events.sort(key=lambda e: e.at, reverse=True)
    return {
        "client": client,
        # The latest projects; the card links to all of them (the projects list, filtered).
        "projects": list(
            project_list(organization=org).filter(client=client)[:CLIENT_PAGE_PROJECTS]
        ),
        "project_total": Project.objects.for_organization(org).filter(client=client).count(),
        "events": events[:60],
        "touchpoint_form": form if can_log else None,
    }


@org_view
def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_get(organization=request.organization, client_id=client_id)
    return _client_page(request, client)


def _client_page(request: HttpRequest, client, form: TouchpointForm | None = None) -> HttpResponse:
    org, actor = request.organization, request.actor
    context = _client_activity(request, client, form=form)
    context.update(
        {
            "contacts": list(contact_list(organization=org, client_id=client.pk)),
            "can_edit": actor.may(Perm.CLIENT_WRITE),
            "can_edit_contacts": actor.may(Perm.CONTACT_WRITE),
            "can_open_project": actor.may(Perm.PROJECT_WRITE),
        }
    )
    return render(request, "journey/clients/detail.html", context)


@org_view
@require_POST
def touchpoint_log(request: HttpRequest, client_id: int) -> HttpResponse:
    org, actor = request.organization, request.actor
    client = client_get(organization=org, client_id=client_id)
    if not actor.may(Perm.TOUCHPOINT_WRITE):
        raise PermissionDeniedError()
    form = TouchpointForm(
        request.POST, organization=org, client=client, projects=_touchpoint_projects(org, client)
    )
    if form.is_valid():
        done = submit(form, services.touchpoint_create, actor=actor, **form.service_data())
        if done is not None:
            if not request.htmx:
                messages.success(request, "Touchpoint logged.")
                return redirect("client_detail", client_id=client.pk)
            context = _client_activity(request, client)
            context["logged"] = True
            return render(request, "journey/clients/_activity.html", context)
    if not request.htmx:
        return _client_page(request, client, form=form)
    context = _client_activity(request, client, form=form)
    return render(request, "journey/clients/_activity.html", context)


@org_view
@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest) -> HttpResponse:
    org, actor = request.organization, request.actor
    actor.require(Perm.CLIENT_WRITE)
    initial = services.client_create_defaults(actor=actor)
    return form_page(
        request,
        ClientForm(request.POST or None, organization=org, initial=initial),
        services.client_create,
        template="journey/clients/form.html",
        context={"client": None},
        done=lambda c: (f"Client {c.name} created.", redirect("client_detail", client_id=c.pk)),
        actor=actor,
    )


@org_view
@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    org, actor = request.organization, request.actor
    client = client_get(organization=org, client_id=client_id)
    actor.require(Perm.CLIENT_WRITE)
    return form_page(
        request,
        ClientForm(request.POST or None, organization=org, initial=ClientForm.initial_for(client)),
        services.client_update,
        template="journey/clients/form.html",
        context={"client": client},
        done=lambda c: ("Client saved.", redirect("client_detail", client_id=c.pk)),
        actor=actor,
        client_id=client.pk,
    )


@org_view
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest, client_id: int) -> HttpResponse:
    org, actor = request.organization, request.actor
    client = client_get(organization=org, client_id=client_id)
    actor.require(Perm.CONTACT_WRITE)
    return form_page(
        request,
        ContactForm(request.POST or None, organization=org),
        services.contact_create,
        template="journey/clients/contact_form.html",
        context={"client": client},
        done=lambda c: ("Contact added.", redirect("client_detail", client_id=client.pk)),
        actor=actor,
        client=client.pk,
    )


@org_view
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, contact_id: int) -> HttpResponse:
    org, actor = request.organization, request.actor
    contact = contact_get(organization=org, contact_id=contact_id)
    actor.require(Perm.CONTACT_WRITE)
    return form_page(
        request,
        ContactForm(
            request.POST or None, organization=org, initial=ContactForm.initial_for(contact)
        ),
        services.contact_update,
        template="journey/clients/contact_form.html",
        context={"client": contact.client, "contact": contact},
        done=lambda c: ("Contact saved.", redirect("client_detail", client_id=c.client_id)),
        actor=actor,
        contact_id=contact.pk,
    )


# --- projects -------------------------------------------------------------------------------
@org_view
def projects(request: HttpRequest, mine: bool = False) -> HttpResponse:
    org = request.organization
    queryset = project_list(organization=org)
    if mine:
        queryset = queryset.filter(project_manager=request.user)
    data = request.GET.copy()
    if mine and "status" not in data:
        data["status"] = "open"
    filters = ProjectFilter(data, queryset=queryset, organization=org)
    if wants_csv(request):  # the current filter, all pages, the API's columns
        return serializer_csv_response(
            request,
            resource="my-projects" if mine else "projects",
            objects=filters.qs,
            serializer_class=ProjectOut,
        )
    page = paginate(request, filters.qs)
    with_overdue_counts(organization=org, projects=page.object_list)
    context = {
        "filters": filters,
        "page": page,
        "mine": mine,
        "filtered": any(request.GET.get(k) for k in filters.filters),
        "can_add": request.actor.may(Perm.PROJECT_WRITE),
        "can_export_csv": request.actor.may(Perm.EXPORT),
    }
    if wants_partial(request, "results"):
        return render(request, "journey/projects/_results.html", context)
    return render(request, "journey/projects/list.html", context)


def my_projects(request: HttpRequest) -> HttpResponse:
    return projects(request, mine=True)


BOARD_CARDS_PER_COLUMN = 40


@org_view
def board(request: HttpRequest) -> HttpResponse:
    """Open projects by phase, longest in their phase first. Each column shows its first
    cards and counts all of them; the work follows the cards, not the organization."""
    org = request.organization
    mine = request.GET.get("mine") == "1"
    scope = open_project_q() & (Q(project_manager=request.user) if mine else Q())
    counts = dict(
        Project.objects.for_organization(org)
        .filter(scope)
        .order_by()
        .values("phase")
        .annotate(n=Count("id"))
        .values_list("phase", "n")
    )
    # Each column's first cards: an index scan per phase (`journey_project_open_board`).
    columns: dict[str, list[Project]] = {
        phase: list(
            project_list(organization=org)
            .filter(scope, phase=phase)
            .order_by("phase_entered_at", "id")[:BOARD_CARDS_PER_COLUMN]
        )
        if counts.get(phase)
        else []
        for phase in Phase.order()
    }
    with_overdue_counts(organization=org, projects=[p for cards in columns.values() for p in cards])
    context = {
        "columns": [
            {
                "phase": p,
                "label": Phase(p).label,
                "count": counts.get(p, 0),
                "cards": items,
                "hidden": counts.get(p, 0) - len(items),
            }
            for p, items in columns.items()
        ],
        "mine": mine,
    }
    return render(request, "journey/board.html", context)


MOVE_LABELS = {"on_hold": "Put on hold", "active": "Resume", "cancelled": "Cancel project"}


def move_choices(project: Project, actor: Actor) -> list[dict]:
    """The moves the service allows this actor, labelled for buttons."""
    out = []
    for target in services.allowed_moves(project, actor=actor):
        if target == Phase.INITIATE and project.phase == Phase.ASSESS:
            label, style = "Won → Initiate", "primary"
        elif target in Phase.values:
            label, style = f"Advance to {Phase(target).label}", "primary"
        elif target == "lost":
            label, style = "Lost", "danger"
        elif target == "completed":
            label, style = "Complete project", "primary"
        else:
            label, style = MOVE_LABELS[target], "danger" if target == "cancelled" else ""
        out.append({"to": target, "label": label, "style": style})
    return out


def _journey_context(request: HttpRequest, project: Project, form=None) -> dict:
    org, actor = request.organization, request.actor
    timeline = list(project_timeline(organization=org, project_id=project.pk))
    spans = phase_stays(timeline)
    strip = []
    for phase in Phase.order():
        stays = [s for s in spans if s.phase == phase]
        total = sum(
            ((s.left_at or timezone.now()) - s.entered_at).total_seconds() / 86400 for s in stays
        )
        strip.append(
            {
                "phase": phase,
                "label": Phase(phase).label,
                "entered": stays[0].entered_at if stays else None,
                "left": stays[-1].left_at if stays else None,
                "days": total if stays else None,
                # The stay the metrics count for this phase (its first forward leave).
                "counted_days": next((s.duration_days for s in stays if s.counted), None),
                "current": phase == project.phase and project.is_open,
                "done": bool(stays) and not (phase == project.phase and project.is_open),
            }
        )
    longest = max((s.duration_days or 0 for s in spans), default=0) or 1
    can_correct = actor.has(Perm.CORRECT_JOURNEY) and project.is_open
    return {
        "project": project,
        "timeline": timeline,
        "spans": [
            {
                "span": s,
                "label": Phase(s.phase).label,
                "days": s.duration_days
                if s.left_at
                else (timezone.now() - s.entered_at).total_seconds() / 86400,
                "width": min(100, 100 * (s.duration_days or 0) / longest),
            }
            for s in spans
        ],
        "strip": strip,
        "moves": move_choices(project, actor),
        "corrections": [
            (p, Phase(p).label) for p in Phase.order() if can_correct and p != project.phase
        ],
        "transition_form": form or TransitionForm(organization=org),
        "titles": {t.pk: _transition_title(t) for t in timeline},
    }


def _milestones_context(request: HttpRequest, project: Project, form=None) -> dict:
    org, actor = request.organization, request.actor
    can_edit = actor.has(Perm.MILESTONE_WRITE, project=project)
    return {
        "project": project,
        "milestones": list(milestone_list(organization=org, project_id=project.pk)),
        "milestone_form": (
            form or MilestoneForm(organization=org, initial={"phase": project.phase})
        )
        if can_edit
        else None,
        "can_edit_milestones": can_edit,
        "today": timezone.now().date(),
    }


def _project_page(request: HttpRequest, project: Project, form=None) -> HttpResponse:
    org, actor = request.organization, request.actor
    context = _journey_context(request, project, form=form)
    context.update(_milestones_context(request, project))
    context.update(
        {
            "touchpoints": list(touchpoint_list(organization=org).filter(project=project)[:15]),
            "feedback": list(
                feedback_list(organization=org, project_id=project.pk).filter(score__isnull=False)[
                    :15
                ]
            ),
            "can_edit": actor.may(Perm.PROJECT_WRITE),
        }
    )
    return render(request, "journey/projects/detail.html", context)


@org_view
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_get(organization=request.organization, project_id=project_id)
    return _project_page(request, project)


@org_view
@require_POST
def project_transition(request: HttpRequest, project_id: int) -> HttpResponse:
    org, actor = request.organization, request.actor
    project = project_get(organization=org, project_id=project_id)
    actor.require(Perm.PROJECT_TRANSITION, project=project)
    form = TransitionForm(request.POST, organization=org)
    if form.is_valid():
        data = form.cleaned_data
        moved = submit(
            form,
            services.project_transition,
            actor=actor,
            project_id=project.pk,
            to=data["to"],
            at=data["at"],
            note=data["note"],
            reason=data["reason"],
        )
        if moved is not None:
            if not request.htmx:
                messages.success(request, "Project moved.")
                return redirect("project_detail", project_id=project.pk)
            project = project_get(organization=org, project_id=project.pk)
            context = _journey_context(request, project)
            # The milestones card follows the new phase (its form's default, its controls).
            context.update(_milestones_context(request, project))
            context["moved"] = True
            response = render(request, "journey/projects/_journey.html", context)
            # Panels that follow the journey (the engagement app's survey requests) reload.
            response["HX-Trigger"] = "journey-moved"
            return response
    if request.htmx:
        context = _journey_context(request, project, form=form)
        return render(request, "journey/projects/_journey.html", context)
    return _project_page(request, project, form=form)


@org_view
@require_POST
def milestone_add(request: HttpRequest, project_id: int) -> HttpResponse:
    org, actor = request.organization, request.actor
    project = project_get(organization=org, project_id=project_id)
    actor.require(Perm.MILESTONE_WRITE, project=project)
    form = MilestoneForm(request.POST, organization=org)
    if form.is_valid():
        done = submit(
            form, services.milestone_create, actor=actor, project=project.pk, **form.cleaned_data
        )
        if done is not None:
            form = None
    if not request.htmx:
        return redirect("project_detail", project_id=project.pk)
    return render(
        request, "journey/projects/_milestones.html", _milestones_context(request, project, form)
    )


@org_view
@require_POST
def milestone_complete(request: HttpRequest, milestone_id: int) -> HttpResponse:
    org, actor = request.organization, request.actor
    milestone = milestone_get(organization=org, milestone_id=milestone_id)
    project = project_get(organization=org, project_id=milestone.project_id)
    actor.require(Perm.MILESTONE_WRITE, project=project)
    error = None
    try:
        services.milestone_complete(actor=actor, milestone_id=milestone.pk)
    except PermissionDeniedError:
        raise
    except DomainError as exc:
        error = exc.message
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("project_detail", project_id=project.pk)
    context = _milestones_context(request, project)
    context["milestone_error"] = error
    return render(request, "journey/projects/_milestones.html", context)


def _clients_for_form(request: HttpRequest):
    return list(
        client_list(organization=request.organization).select_related(None).only("id", "name")
    )


@org_view
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    org, actor = request.organization, request.actor
    actor.require(Perm.PROJECT_WRITE)
    initial = {"client": request.GET.get("client", ""), "currency": "USD"}
    return form_page(
        request,
        ProjectForm(
            request.POST or None,
            organization=org,
            clients=_clients_for_form(request),
            initial=initial,
        ),
        services.project_open,
        template="journey/projects/form.html",
        context={"project": None},
        done=lambda p: (
            f"Project {p.code} opened in assess.",
            redirect("project_detail", project_id=p.pk),
        ),
        actor=actor,
    )


@org_view
@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, project_id: int) -> HttpResponse:
    org, actor = request.organization, request.actor
    project = project_get(organization=org, project_id=project_id)
    actor.require(Perm.PROJECT_WRITE)
    return form_page(
        request,
        ProjectForm(
            request.POST or None,
            organization=org,
            clients=_clients_for_form(request),
            creating=False,
            initial=ProjectForm.initial_for(project),
        ),
        services.project_update,
        template="journey/projects/form.html",
        context={"project": project},
        done=lambda p: ("Project saved.", redirect("project_detail", project_id=p.pk)),
        actor=actor,
        project_id=project.pk,
    )


# --- history --------------------------------------------------------------------------------
HISTORY_PAGE_SIZE = 10
# Moves that keep the phase, named by the status they lead to.
_STATUS_MOVES = {
    ProjectStatus.ON_HOLD: "Put on hold",
    ProjectStatus.ACTIVE: "Resumed",
    ProjectStatus.COMPLETED: "Completed",
    ProjectStatus.LOST: "Lost",
    ProjectStatus.CANCELLED: "Cancelled",
}


def _phase_label(phase) -> str:
    return Phase(phase).label if phase in Phase.values else str(phase)


def _history_headline(event, *, own_type: str) -> str:
    """What happened, in a few words: "Changed the client", "Added contact “Ann”",
    "Moved from Assess to Initiate"."""
    changes = event.changes or {}
    if event.action == "transition":
        kind = (changes.get("kind") or [None, None])[-1]
        if changes.get("phase"):
            before, after = (_phase_label(p) for p in changes["phase"])
            verb = {TransitionKind.WON: "Won: moved", TransitionKind.CORRECTED: "Corrected"}
            return f"{verb.get(kind, 'Moved')} from {before} to {after}"
        if changes.get("status"):
            return _STATUS_MOVES.get(changes["status"][-1], "Moved")
        return "Moved"
    model = apps.get_model(event.object_type)
    noun = model._meta.verbose_name
    if event.object_type == own_type:
        verb = {"create": "Created", "delete": "Deleted"}.get(event.action, "Changed")
        return f"{verb} the {noun}"
    verb = {"create": "Added", "delete": "Removed"}.get(event.action, "Changed")
    if event.action == "update" and (changes.get("completed_at") or [1])[0] is None:
        verb = "Completed"
    return f"{verb} {noun} “{event.object_repr}”"


def _history(
    request: HttpRequest,
    *,
    objects: list[tuple[str, object]],
    own_type: str,
    url: str,
    skip: dict[str, set[str]],
) -> HttpResponse:
    """A History card (the first page) or, with `before`, the next entries ("Show older"
    swaps them in place of its button): the audit events of the page's row and its children,
    newest first, one query for the page whatever the number of events."""
    org = request.organization
    request.actor.require(Perm.READ)
    before = None
    if "before" in request.GET:
        before = AuditCursor.parse(request.GET["before"])
        if before is None:
            return HttpResponseBadRequest(
                "This is not a position in the history; reload the page.",
                content_type="text/plain; charset=utf-8",
            )
    events, cursor = audit_events_for_objects(
        organization=org, objects=objects, before=before, limit=HISTORY_PAGE_SIZE
    )
    audit_present(events, organization=org, skip=skip)
    for event in events:
        event.headline = _history_headline(event, own_type=own_type)
        event.effective = None
        if event.action == "transition":
            event.rows = []  # the headline says it: from which phase to which
            at = parse_datetime(str((event.changes.get("at") or [None, ""])[-1]))
            if at is not None and abs((at - event.at).total_seconds()) > 60:
                event.effective = at  # a back-dated move: when it happened
    context = {
        "events": events,
        "next_url": f"{url}?before={cursor.token}" if cursor else "",
        "tz": org.timezone,
    }
    if before is not None:
        return render(request, "partials/_history_entries.html", context)
    return render(request, "partials/_history.html", context)


@org_view
def client_history(request: HttpRequest, client_id: int) -> HttpResponse:
    """The client page's History: changes to the client and to its contacts."""
    org = request.organization
    client = client_get(organization=org, client_id=client_id)
    # The contacts' ids as a list: each object set stays a lookup on the audit index.
    contacts = list(
        contact_list(organization=org, client_id=client.pk).order_by().values_list("id", flat=True)
    )
    return _history(
        request,
        objects=[(Client._meta.label_lower, client.pk), (Contact._meta.label_lower, contacts)],
        own_type=Client._meta.label_lower,
        url=reverse("client_history", args=[client.pk]),
        skip={Contact._meta.label_lower: {"client"}},
    )


@org_view
def project_history(request: HttpRequest, project_id: int) -> HttpResponse:
    """The project page's History: changes to the project (its phase moves included) and
    to its milestones."""
    org = request.organization
    project = project_get(organization=org, project_id=project_id)
    milestones = list(
        milestone_list(organization=org, project_id=project.pk)
        .order_by()
        .values_list("id", flat=True)
    )
    return _history(
        request,
        objects=[
            (Project._meta.label_lower, project.pk),
            (Milestone._meta.label_lower, milestones),
        ],
        own_type=Project._meta.label_lower,
        url=reverse("project_history", args=[project.pk]),
        skip={Milestone._meta.label_lower: {"project"}},
    )
