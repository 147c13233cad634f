"""The demo organization with its engagement history: the journey's seeder
(`journey.demo`) plus gate surveys sent and answered on the demo's clock, playbooks, survey
reminders, the daily alert rules (older low scores resolved) and twelve weeks of health."""

from __future__ import annotations

import datetime as dt

from engagement.models import Alert
from engagement.services.alerts import alert_resolve, alerts_run_rules
from engagement.services.health import health_snapshot_take
from engagement.services.playbooks import playbooks_ensure
from engagement.services.surveys import (
    survey_answer,
    survey_gate_request,
    survey_send,
    survey_send_reminders,
)
from journey import demo as journey_demo
from journey.demo import COMMENTS, LOW_COMMENTS, RESOLUTIONS, DemoResult, DemoSeeder
from journey.models import PhaseTransition

DEFAULT_PASSWORD = journey_demo.DEFAULT_PASSWORD


class EngagementDemoSeeder(DemoSeeder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.counts.update(
            {"survey_requests": 0, "survey_responses": 0, "alerts": 0, "health_snapshots": 0}
        )

    def seed_engagement(self) -> None:
        """Playbooks, reminders, the daily alert rules, closed-loop history and a health trend,
        all on the demo's clock."""
        org = self.org
        playbooks_ensure(organization=org)
        for days_ago in (42, 35, 28, 21, 14, 7, 1):
            survey_send_reminders(organization=org, now=self.t(days_ago), deliver=False)
        alerts_run_rules(organization=org, now=self.today)  # the first run of "today"
        # The loop closed on older low scores: resolved by their account manager.
        by_user = {a.user.pk: a for a in self.ams}
        old = (
            Alert.objects.for_organization(org)
            .filter(kind="low_score", resolved_at__isnull=True)
            .filter(feedback__responded_at__lt=self.t(30))
            .order_by("id")
        )
        for alert in old:
            actor = by_user.get(alert.assignee_id, self.actors["admin"])
            alert_resolve(actor=actor, alert_id=alert.pk, note=self.pick(RESOLUTIONS))
        self.counts["alerts"] = Alert.objects.for_organization(org).count()
        for week in range(12, -1, -1):
            self.counts["health_snapshots"] += health_snapshot_take(
                organization=org, now=self.t(7 * week + 0.25)
            )

    def gate_survey(self, project, at_ago: float, nps: bool) -> None:
        """The gate survey of the move just made: sent then, answered by some contacts."""
        rng = self.rng
        entry = (
            PhaseTransition.objects.for_organization(self.org)
            .filter(project=project)
            .order_by("-seq")
            .first()
        )
        sent = self.t(at_ago)
        request = survey_gate_request(
            organization=self.org, transition_id=entry.pk, now=sent, send=False
        )
        if request is None:
            return
        token = survey_send(organization=self.org, feedback_id=request.pk, now=sent, deliver=False)
        self.counts["survey_requests"] += 1
        answered_ago = at_ago - rng.uniform(0.3, 9)
        if rng.random() > 0.65 or answered_ago <= 0.5:
            return  # still waiting (reminded, maybe alerted)
        if nps:
            score = min(10, max(0, round(rng.gauss(7.8, 2.0))))
        else:
            score = min(5, max(1, round(rng.gauss(3.9, 1.0))))
        low = score <= (6 if nps else 2)
        survey_answer(
            token=token,
            score=score,
            comment=self.pick(LOW_COMMENTS if low else COMMENTS),
            now=self.t(answered_ago),
        )
        self.counts["survey_responses"] += 1


def demo_seed(*, today: dt.date, **kwargs) -> DemoResult:
    """The whole demo: `journey.demo.demo_seed` with the engagement seeder."""
    return journey_demo.demo_seed(today=today, seeder_class=EngagementDemoSeeder, **kwargs)
