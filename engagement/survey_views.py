"""The public survey page: no login, the link's token is the only credential. Answered,
expired and unknown links get a clear page (never a 500); bad input re-renders the form
with the errors inline. CSRF-protected like every other POST."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from accounts.tenancy import organization_scope
from engagement.services.surveys import (
    SurveyState,
    survey_answer,
    survey_lookup,
    survey_token_organization,
)
from journey.errors import JourneyError
from journey.scales import score_scale

CLOSED_STATUS = {"answered": 200, "expired": 410, "unknown": 404}


def _no_leaks(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: keep it out of Referer headers sent to other sites (same-origin,
    # not no-referrer: browsers then send "Origin: null" and the CSRF check refuses the form),
    # out of search engines and caches.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _closed(request: HttpRequest, state: SurveyState) -> HttpResponse:
    feedback = state.feedback
    context = {
        "status": state.status,
        "organization": state.link.organization if state.link else None,
        "responded_at": feedback.responded_at if feedback else None,
    }
    return _no_leaks(
        render(
            request, "engagement/surveys/closed.html", context, status=CLOSED_STATUS[state.status]
        )
    )


def _form(request, state: SurveyState, *, errors=None, chosen="", comment="", status=200):
    feedback = state.feedback
    scale = score_scale(feedback.kind).values
    context = {
        "organization": state.link.organization,
        "project": feedback.project,
        "contact": feedback.contact,
        "kind": feedback.kind,
        "phase_label": feedback.get_phase_display(),
        "scale": scale,
        "errors": errors or {},
        "chosen": chosen,
        "comment": comment,
        "expires_at": feedback.expires_at,
    }
    return _no_leaks(render(request, "engagement/surveys/answer.html", context, status=status))


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    # No login: the link's organization is the page's scope (row-level security).
    with organization_scope(survey_token_organization(token=token)):
        return _survey(request, token)


def _survey(request: HttpRequest, token: str) -> HttpResponse:
    state = survey_lookup(token=token)
    if state.status != "open":
        return _closed(request, state)
    if request.method == "GET":
        return _form(request, state)
    score = request.POST.get("score", "")
    comment = request.POST.get("comment", "")
    try:
        survey_answer(token=token, score=score, comment=comment)
    except JourneyError as exc:
        if exc.code in CLOSED_STATUS:  # answered or expired a moment ago
            return _closed(request, survey_lookup(token=token))
        return _form(
            request,
            state,
            errors={exc.field or "score": exc.message},
            chosen=str(score),
            comment=comment,
            status=400,
        )
    return redirect(request.path)
