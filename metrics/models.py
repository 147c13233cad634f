"""Stored metric results and the record of each recompute. Definitions: SPEC, "Metrics"."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from accounts.tenancy import TenantModel
from journey.models import Phase


class MetricKey(models.TextChoices):
    TIME_TO_DECISION_DAYS = "time_to_decision_days", "Time to decision (days)"
    WIN_RATE = "win_rate", "Win rate"
    PHASE_DURATION_ASSESS = "phase_duration_days.assess", "Assess duration (days)"
    PHASE_DURATION_INITIATE = "phase_duration_days.initiate", "Initiate duration (days)"
    PHASE_DURATION_PLAN = "phase_duration_days.plan", "Plan duration (days)"
    PHASE_DURATION_EXECUTE = "phase_duration_days.execute", "Execute duration (days)"
    PHASE_DURATION_CLOSE_OUT = "phase_duration_days.close_out", "Close-out duration (days)"
    TIME_TO_KICKOFF_DAYS = "time_to_kickoff_days", "Time to kick-off (days)"
    ON_TIME_MILESTONE_RATE = "on_time_milestone_rate", "On-time milestones"
    CSAT_AVG = "csat_avg", "CSAT (1-5)"
    NPS = "nps", "NPS"
    TOUCHPOINTS_PER_ACTIVE_CLIENT = (
        "touchpoints_per_active_client",
        "Touchpoints per active client",
    )
    SENIOR_TOUCH_RATE = "senior_touch_rate", "Senior-leader touch rate"
    REPEAT_BUSINESS_RATE = "repeat_business_rate", "Repeat business rate"
    CLIENT_LIFETIME_VALUE = "client_lifetime_value", "Client lifetime value"


# The journey phase each metric belongs to (SPEC table, "phase" column); "all" for every phase.
METRIC_PHASE: dict[str, str] = {
    MetricKey.TIME_TO_DECISION_DAYS: Phase.ASSESS,
    MetricKey.WIN_RATE: Phase.ASSESS,
    MetricKey.PHASE_DURATION_ASSESS: Phase.ASSESS,
    MetricKey.PHASE_DURATION_INITIATE: Phase.INITIATE,
    MetricKey.PHASE_DURATION_PLAN: Phase.PLAN,
    MetricKey.PHASE_DURATION_EXECUTE: Phase.EXECUTE,
    MetricKey.PHASE_DURATION_CLOSE_OUT: Phase.CLOSE_OUT,
    MetricKey.TIME_TO_KICKOFF_DAYS: Phase.INITIATE,
    MetricKey.ON_TIME_MILESTONE_RATE: "plan,execute",
    MetricKey.CSAT_AVG: "all",
    MetricKey.NPS: Phase.CLOSE_OUT,
    MetricKey.TOUCHPOINTS_PER_ACTIVE_CLIENT: "all",
    MetricKey.SENIOR_TOUCH_RATE: "all",
    MetricKey.REPEAT_BUSINESS_RATE: Phase.CLOSE_OUT,
    MetricKey.CLIENT_LIFETIME_VALUE: Phase.CLOSE_OUT,
}


class Dimension(models.TextChoices):
    OVERALL = "overall", "Overall"
    SEGMENT = "segment", "Segment"
    SERVICE_MODEL = "service_model", "Service model"
    MODALITY = "modality", "Modality"
    PROJECT_MANAGER = "project_manager", "Project manager"
    ACCOUNT_MANAGER = "account_manager", "Account manager"


# The figure's columns as the API, the CSV export and the dashboard read them.
RESULT_FIELDS = (
    "key",
    "dimension",
    "dimension_value",
    "period",
    "value",
    "numerator",
    "denominator",
    "n",
    "provisional",
)


class MetricResult(TenantModel):
    """One figure: a metric for one organization, dimension value and month.

    `value` is stored at full precision. Rates keep their counts in numerator/denominator,
    means their sum and count, medians leave both empty; `n` is the number of samples. No row
    is stored for n = 0. A recompute replaces an organization's whole set in one transaction.
    """

    key = models.CharField(max_length=40, choices=MetricKey.choices)
    dimension = models.CharField(max_length=20, choices=Dimension.choices)
    dimension_value = models.CharField(max_length=254)
    period = models.CharField(max_length=7, help_text="Calendar month, YYYY-MM (UTC).")
    value = models.FloatField()
    numerator = models.FloatField(null=True, blank=True)
    denominator = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField()
    provisional = models.BooleanField(
        default=False,
        help_text="The figure can still change as time passes (repeat business: a completion's "
        "365-day window is still open).",
    )
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["key", "dimension", "dimension_value", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key", "dimension", "dimension_value", "period"],
                name="metrics_result_uniq",
            ),
            models.CheckConstraint(condition=Q(n__gt=0), name="metrics_result_n_positive"),
            models.CheckConstraint(
                condition=Q(period__regex=r"^[0-9]{4}-[0-9]{2}$"), name="metrics_result_period"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "period"]),
            models.Index(fields=["organization", "dimension", "key", "period"]),
            # "Figures computed at" on the dashboard: the newest row, not a sort of all.
            models.Index(fields=["organization", "-computed_at"], name="metrics_result_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.dimension}={self.dimension_value} {self.period}: {self.value}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class MetricRun(TenantModel):
    """One recompute of an organization's metrics: what the dashboard's progress shows."""

    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(
        max_length=20,
        default="change",
        help_text="What asked for it: change, request (button or API), schedule, command.",
    )
    task_id = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_written = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="metrics_run_status_valid"
            )
        ]
        indexes = [models.Index(fields=["organization", "status", "created_at"])]

    def __str__(self) -> str:
        return f"metrics run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.SUCCEEDED, RunStatus.FAILED)
