"""Browser views of the engagement features: the alert inbox, survey requests and PM
suggestions on the project page, and the admins' engagement settings (playbooks, health
weights, gate surveys). Thin like `journey.views`: selectors and services decide, a service's
refusal shows inline, htmx requests get the partial they swap."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.api.csv_export import serializer_csv_response
from accounts.errors import DomainError, PermissionDeniedError
from accounts.permissions import Perm
from accounts.web import org_view, paginate, submit, wants_csv
from engagement.api.serializers import AlertOut
from engagement.context_processors import open_alert_count
from engagement.forms import (
    AlertResolveForm,
    AlertSnoozeForm,
    GateSurveysForm,
    HealthWeightsForm,
    PlaybookForm,
    SurveyRequestForm,
)
from engagement.selectors import (
    alert_get,
    alert_list,
    alert_state,
    feedback_request_list,
    feedback_request_status,
    survey_response_rate,
)
from engagement.services import alerts as alert_services
from engagement.services import playbooks as playbook_services
from engagement.services import settings as settings_services
from engagement.services.health import at_risk_rows, client_health, client_health_trend
from engagement.services.matching import SCORE_RULES, project_pm_suggestions
from engagement.services.playbooks import HEALTH_COMPONENTS
from engagement.templatetags.engagement_ui import COMPONENT_LABELS
from journey import services
from journey.models import Phase, ServiceModel
from journey.selectors import client_get, contact_list, project_get

ALERT_STATES = [("open", "Open"), ("snoozed", "Snoozed"), ("resolved", "Resolved")]
ALERT_PAGE_SIZE = 20


# --- alert inbox ----------------------------------------------------------------------------
def _alert_row(request: HttpRequest, alert, *, resolve_form=None, snooze_form=None, **extra):
    return {
        "alert": alert,
        "state": alert_state(alert),
        "can_act": request.actor.may_act_on(
            Perm.ALERT_WRITE, assignee_id=alert.assignee_id, project=alert.project
        ),
        "resolve_form": resolve_form or AlertResolveForm(prefix=f"a{alert.pk}"),
        "snooze_form": snooze_form or AlertSnoozeForm(prefix=f"a{alert.pk}"),
        "min_snooze": timezone.now().date().isoformat(),
        **extra,
    }


def _alert_tabs(request: HttpRequest, *, everyone: bool) -> list[tuple[str, str, int | None]]:
    assignee = None if everyone else request.user
    counts = {
        s: alert_list(organization=request.organization, assignee=assignee, state=s).count()
        for s in ("open", "snoozed")
    }
    return [(s, label, counts.get(s)) for s, label in ALERT_STATES]


@org_view
def alerts(request: HttpRequest) -> HttpResponse:
    org, user = request.organization, request.user
    state = request.GET.get("state", "open")
    if state not in dict(ALERT_STATES):
        state = "open"
    everyone = request.GET.get("who") == "all"
    listed = alert_list(organization=org, assignee=None if everyone else user, state=state)
    if wants_csv(request):  # the current tab, all pages, the API's columns
        return serializer_csv_response(
            request, resource="alerts", objects=listed, serializer_class=AlertOut
        )
    page = paginate(request, listed, per_page=ALERT_PAGE_SIZE)
    context = {
        "can_export_csv": request.actor.may(Perm.EXPORT),
        "state": state,
        "everyone": everyone,
        "tabs": _alert_tabs(request, everyone=everyone),
        "page": page,
        "rows": [_alert_row(request, a) for a in page.object_list],
    }
    if request.htmx and request.htmx.target == "results":  # the list, paginated in place
        return render(request, "engagement/alerts/_list.html", context)
    return render(request, "engagement/alerts/inbox.html", context)


def _alert_response(request: HttpRequest, alert, **row) -> HttpResponse:
    """The alert's row again; the navigation badge and the tab counts follow out of band."""
    context = _alert_row(request, alert, **row)
    everyone = request.POST.get("who") == "all"
    state = request.POST.get("state", "open")
    context.update(
        {
            "nav_alert_count": open_alert_count(request),
            "everyone": everyone,
            "state_tab": state if state in dict(ALERT_STATES) else "open",
            "tabs": _alert_tabs(request, everyone=everyone),
        }
    )
    return render(request, "engagement/alerts/_alert.html", context)


JUST_DONE = {"resolve": "resolved", "snooze": "snoozed"}


def _alert_action(
    request: HttpRequest, alert_id: int, *, action: str, form_class, service, field: str, done_msg
) -> HttpResponse:
    """Resolve or snooze: the form's one value goes to the service; a refusal stays on the
    row (htmx) or becomes a message (plain POST)."""
    org, actor = request.organization, request.actor
    alert = alert_get(organization=org, alert_id=alert_id)
    actor.require_on(Perm.ALERT_WRITE, assignee_id=alert.assignee_id, project=alert.project)
    form = form_class(request.POST, prefix=f"a{alert.pk}")
    done = None
    if form.is_valid():
        done = submit(
            form, service, actor=actor, alert_id=alert.pk, **{field: form.cleaned_data[field]}
        )
    if not request.htmx:
        if done is not None:
            messages.success(request, done_msg(done))
        else:
            messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(reverse("alerts"))
    if done is not None:
        return _alert_response(request, done, just=JUST_DONE[action])
    return _alert_response(request, alert, **{f"{action}_form": form}, open_form=action)


@org_view
@require_POST
def alert_resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    return _alert_action(
        request,
        alert_id,
        action="resolve",
        form_class=AlertResolveForm,
        service=alert_services.alert_resolve,
        field="note",
        done_msg=lambda done: "Alert resolved.",
    )


@org_view
@require_POST
def alert_snooze(request: HttpRequest, alert_id: int) -> HttpResponse:
    return _alert_action(
        request,
        alert_id,
        action="snooze",
        form_class=AlertSnoozeForm,
        service=alert_services.alert_snooze,
        field="until",
        done_msg=lambda done: f"Alert snoozed until {done.snoozed_until:%Y-%m-%d}.",
    )


# --- project page: survey requests and PM suggestions ---------------------------------------
def survey_rows(requests) -> list[dict]:
    now = timezone.now()
    return [{"f": f, "status": feedback_request_status(f, now)} for f in requests]


def project_surveys_context(request: HttpRequest, project, form=None) -> dict:
    org, actor = request.organization, request.actor
    can_send = actor.may(Perm.FEEDBACK_WRITE)
    if can_send and form is None:
        contacts = list(contact_list(organization=org, client_id=project.client_id))
        primary = next((c.pk for c in contacts if c.is_primary), "")
        form = SurveyRequestForm(
            organization=org,
            contacts=contacts,
            initial={"phase": project.phase, "kind": "csat", "contact": primary},
        )
    return {
        "project": project,
        "survey_requests": survey_rows(
            feedback_request_list(organization=org, project_id=project.pk)[:20]
        ),
        "survey_rate": survey_response_rate(organization=org, project_id=project.pk),
        "survey_form": form if can_send else None,
    }


def project_pm_context(request: HttpRequest, project) -> dict:
    return {
        "project": project,
        "pm_suggestions": project_pm_suggestions(
            organization=request.organization, project_id=project.pk
        )[:5],
        "can_assign_pm": request.actor.may(Perm.PROJECT_WRITE) and project.is_open,
        "pm_score_rules": SCORE_RULES,
    }


@org_view
@require_POST
def survey_request(request: HttpRequest, project_id: int) -> HttpResponse:
    org, actor = request.organization, request.actor
    project = project_get(organization=org, project_id=project_id)
    actor.require(Perm.FEEDBACK_WRITE)
    contacts = list(contact_list(organization=org, client_id=project.client_id))
    form = SurveyRequestForm(request.POST, organization=org, contacts=contacts)
    sent = None
    if form.is_valid():
        data = form.cleaned_data
        sent = submit(
            form,
            services.feedback_create,
            actor=actor,
            project=project.pk,
            contact=data["contact"],
            kind=data["kind"],
            phase=data["phase"],
        )
    if not request.htmx:
        if sent is not None:
            messages.success(request, f"Survey sent to {sent.contact.name}.")
            return redirect("project_detail", project_id=project.pk)
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("project_detail", project_id=project.pk)
    context = project_surveys_context(request, project, form=None if sent else form)
    context["survey_sent"] = sent
    return render(request, "engagement/projects/_surveys.html", context)


@org_view
@require_POST
def project_assign_pm(request: HttpRequest, project_id: int) -> HttpResponse:
    """Make a suggested project manager the project's, through the project update service."""
    org, actor = request.organization, request.actor
    project = project_get(organization=org, project_id=project_id)
    actor.require(Perm.PROJECT_WRITE)
    email = request.POST.get("project_manager", "")
    try:
        updated = services.project_update(actor=actor, project_id=project.pk, project_manager=email)
    except PermissionDeniedError:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        who = updated.project_manager.get_full_name() if updated.project_manager else "Nobody"
        messages.success(request, f"{who} is now the project manager.")
    return redirect("project_detail", project_id=project.pk)


# --- engagement settings (admins) -----------------------------------------------------------
def _playbook_block(organization, playbook, form=None, saved=False) -> dict:
    suggestions = playbook_services.playbook_target_suggestions(
        organization=organization, service_model=playbook.service_model
    )
    form = form or PlaybookForm(playbook=playbook)
    return {
        "playbook": playbook,
        "form": form,
        "phases": [
            {
                "phase": phase,
                "label": Phase(phase).label,
                "cadence": form[f"cadence_days__{phase}"],
                "target": form[f"target_days__{phase}"],
                "p50": suggestions[phase]["p50"],
                "n": suggestions[phase]["n"],
                "exact": suggestions[phase]["exact"],
            }
            for phase in Phase.order()
        ],
        "saved": saved,
    }


def _weights_block(organization, form=None, saved=False) -> dict:
    weights = playbook_services.health_weights(organization=organization)
    form = form or HealthWeightsForm(components=HEALTH_COMPONENTS, initial=weights)
    total = sum(weights.values()) or 1
    return {
        "weights_form": form,
        "weights": [(name, weights[name], weights[name] / total) for name in HEALTH_COMPONENTS],
        "weights_saved": saved,
    }


def _gates_block(organization, form=None, saved=False) -> dict:
    if form is None:
        form = GateSurveysForm(
            initial={
                "enabled": [
                    m
                    for m in ServiceModel.values
                    if playbook_services.gate_surveys_enabled(
                        organization=organization, service_model=m
                    )
                ]
            }
        )
    return {"gates_form": form, "gates_saved": saved}


@org_view
def engagement_settings(request: HttpRequest) -> HttpResponse:
    request.actor.require(Perm.ENGAGEMENT_MANAGE)
    return _settings_page(request)


def _settings_page(request: HttpRequest, **override) -> HttpResponse:
    org = request.organization
    # A GET reads: the stored playbooks (created with the organization); a missing one is
    # offered as a button that creates it (`playbooks_create`).
    playbooks = list(playbook_services.playbook_list(organization=org))
    stored = {p.service_model for p in playbooks}
    blocks = [
        override["playbook_block"]
        if override.get("playbook_block") and override["playbook_block"]["playbook"].pk == p.pk
        else _playbook_block(org, p)
        for p in playbooks
    ]
    context = {
        "playbooks": blocks,
        "missing_playbooks": [
            ServiceModel(m).label for m in ServiceModel.values if m not in stored
        ],
    }
    context.update(override.get("weights_block") or _weights_block(org))
    context.update(override.get("gates_block") or _gates_block(org))
    return render(request, "engagement/settings/engagement.html", context)


@org_view
@require_POST
def playbooks_create(request: HttpRequest) -> HttpResponse:
    """Create the default playbook of every service model the organization lacks."""
    request.actor.require(Perm.ENGAGEMENT_MANAGE)
    playbook_services.playbooks_ensure(organization=request.organization)
    return _settings_saved(request, "Default playbooks created.")


def _settings_saved(request: HttpRequest, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("engagement_settings")


def _settings_save(
    request: HttpRequest,
    form,
    service,
    /,
    *,
    data,
    block,
    part: str,
    template: str,
    message,
    **service_kwargs,
) -> HttpResponse:
    """One block of the settings page saved: a valid form goes to the service; htmx gets
    the block again (saved, or with its errors), a plain POST the whole page or a redirect.
    `data(form)` gives the service's input, `block(saved, form)` the block's context."""
    request.actor.require(Perm.ENGAGEMENT_MANAGE)
    saved = None
    if form.is_valid():
        saved = submit(form, service, actor=request.actor, **service_kwargs, **data(form))
    if saved is not None and not request.htmx:
        return _settings_saved(request, message(saved))
    context = block(saved, None if saved is not None else form)
    if not request.htmx:
        return _settings_page(request, **{part: context})
    return render(request, template, context)


@org_view
@require_POST
def playbook_save(request: HttpRequest, playbook_id: int) -> HttpResponse:
    org = request.organization
    playbook = playbook_services.playbook_get(organization=org, playbook_id=playbook_id)
    return _settings_save(
        request,
        PlaybookForm(request.POST, playbook=playbook),
        settings_services.playbook_update,
        playbook_id=playbook.pk,
        data=lambda form: form.service_data(),
        block=lambda saved, form: _playbook_block(
            org, saved or playbook, form=form, saved=saved is not None
        ),
        part="playbook_block",
        template="engagement/settings/_playbook.html",
        message=lambda saved: f"{saved} saved.",
    )


@org_view
@require_POST
def health_weights_save(request: HttpRequest) -> HttpResponse:
    org = request.organization
    return _settings_save(
        request,
        HealthWeightsForm(request.POST, components=HEALTH_COMPONENTS),
        settings_services.engagement_settings_update,
        data=lambda form: {"health_weights": dict(form.cleaned_data)},
        block=lambda saved, form: _weights_block(org, form, saved=saved is not None),
        part="weights_block",
        template="engagement/settings/_weights.html",
        message=lambda saved: "Health weights saved.",
    )


@org_view
@require_POST
def gate_surveys_save(request: HttpRequest) -> HttpResponse:
    org = request.organization
    return _settings_save(
        request,
        GateSurveysForm(request.POST),
        settings_services.engagement_settings_update,
        data=lambda form: {"gate_surveys_disabled_for": form.disabled_for()},
        block=lambda saved, form: _gates_block(org, form, saved=saved is not None),
        part="gates_block",
        template="engagement/settings/_gates.html",
        message=lambda saved: "Gate surveys saved.",
    )


# --- panels the journey and dashboard pages load (htmx, `partials/_lazy.html`) --------------
@org_view
def project_surveys_panel(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_get(organization=request.organization, project_id=project_id)
    return render(
        request, "engagement/projects/_surveys.html", project_surveys_context(request, project)
    )


@org_view
def project_pm_panel(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_get(organization=request.organization, project_id=project_id)
    return render(
        request, "engagement/projects/_pm_suggestions.html", project_pm_context(request, project)
    )


@org_view
def client_health_panel(request: HttpRequest, client_id: int) -> HttpResponse:
    org = request.organization
    client = client_get(organization=org, client_id=client_id)
    health = client_health(organization=org, client_id=client.pk)
    trend = client_health_trend(organization=org, client_id=client.pk, days=90)
    context = {
        "client": client,
        "health": health,
        "health_rows": [
            {"name": name, "label": COMPONENT_LABELS.get(name, name), **row}
            for name, row in health.as_dict().items()
        ],
        "health_trend": trend,
        "health_chart": {
            "labels": [s.day.isoformat() for s in trend],
            "values": [s.score for s in trend],
        },
        "perms_settings": request.actor.may(Perm.ENGAGEMENT_MANAGE),
    }
    return render(request, "engagement/clients/_health.html", context)


@org_view
def client_surveys_panel(request: HttpRequest, client_id: int) -> HttpResponse:
    org = request.organization
    client = client_get(organization=org, client_id=client_id)
    context = {
        "client": client,
        "survey_requests": survey_rows(
            feedback_request_list(organization=org, client_id=client.pk)[:20]
        ),
        "survey_rate": survey_response_rate(organization=org, client_id=client.pk),
    }
    return render(request, "engagement/clients/_surveys.html", context)


HOME_ALERTS = 6


@org_view
def home_alerts_panel(request: HttpRequest) -> HttpResponse:
    """What the user owes a client today: the inbox's first rows, on the overview page."""
    alerts = alert_list(organization=request.organization, assignee=request.user)
    return render(
        request, "engagement/_home_alerts.html", {"open_alerts": list(alerts[:HOME_ALERTS])}
    )


@org_view
def at_risk_panel(request: HttpRequest) -> HttpResponse:
    """The executive dashboard's at-risk clients: today's health, not the filtered range's."""
    return render(
        request,
        "engagement/_at_risk.html",
        {"at_risk": at_risk_rows(organization=request.organization)},
    )
