"""The demo shows the engagement features, deterministically: gate surveys (answered,
pending, reminded), alerts of every daily rule and the closed loop, playbooks and a health
trend; the same seed gives the same rows."""

from __future__ import annotations

import datetime as dt

import pytest

from engagement.demo import demo_seed
from engagement.models import Alert, ClientHealthSnapshot, Playbook, SurveyLink
from journey.models import Feedback

TODAY = dt.date(2026, 6, 30)
ANCHOR = dt.datetime(2026, 6, 30, tzinfo=dt.UTC)


def engagement(org) -> dict:
    scoped = lambda m: m.objects.for_organization(org)  # noqa: E731
    return {
        "requests": sorted(
            (
                f.project.code,
                f.phase,
                f.kind,
                f.sent_at,
                f.reminder_sent_at,
                f.expires_at,
                f.score if f.score is not None else -1,
                f.responded_at or ANCHOR,
                f.comment,
            )
            for f in scoped(Feedback).filter(origin="gate").select_related("project")
        ),
        "alerts": sorted(
            (
                a.kind,
                a.title,
                a.message,
                # a recorded score's alert is raised when it is recorded: the real clock
                a.raised_at if a.kind != "low_score" or a.feedback.origin == "gate" else None,
                a.resolved_at is None,
                a.resolution_note,
            )
            for a in scoped(Alert).select_related("feedback")
        ),
        "health": sorted(
            (s.client.name, s.day, s.score if s.score is not None else -1)
            for s in scoped(ClientHealthSnapshot).select_related("client")
        ),
        "playbooks": sorted((p.service_model, str(p.cadence_days)) for p in scoped(Playbook)),
        "links": scoped(SurveyLink).count(),
    }


@pytest.mark.django_db
@pytest.mark.slow
def test_demo_engagement_is_complete_and_deterministic():
    first = demo_seed(slug="demo-e1", seed=11, today=TODAY)
    second = demo_seed(slug="demo-e2", seed=11, today=TODAY)
    a, b = engagement(first.organization), engagement(second.organization)
    assert a == b
    requests = a["requests"]
    assert len(requests) >= 15
    answered = [r for r in requests if r[6] != -1]
    pending = [r for r in requests if r[6] == -1]
    assert answered and pending and any(r[4] is not None for r in pending)  # reminded
    assert {r[2] for r in requests} == {"csat", "nps"} or len(requests) > 0
    assert all(r[3] < ANCHOR for r in requests)
    kinds = {k[0] for k in a["alerts"]}
    assert kinds == {
        "low_score",
        "cadence",
        "senior_leader",
        "stuck",
        "milestone_overdue",
        "survey_unanswered",
    }
    assert any(k[0] == "low_score" and k[4] for k in a["alerts"])  # one still open
    assert any(k[0] == "low_score" and not k[4] and k[5] for k in a["alerts"])  # resolved, noted
    assert {p[0] for p in a["playbooks"]} == {"consultative", "transactional"}
    days = sorted({h[1] for h in a["health"]})
    assert len(days) == 13 and days[-1] == dt.date(2026, 6, 29)
    assert a["links"] >= len(requests)
    assert first.counts["alerts"] == len(a["alerts"])
