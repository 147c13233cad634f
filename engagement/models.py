"""The engagement domain: survey links, engagement settings, playbooks, alerts and client
health snapshots. The tables keep the names they had when these lived in `journey`
(`db_table`), so moving them lost no row."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.tenancy import TenantModel
from journey.models import Client, Feedback, Milestone, Project, ServiceModel, choice_in


class SurveyLink(TenantModel):
    """One e-mailed link to a feedback request. Only the SHA-256 of the token is stored: the
    token itself exists in the e-mail alone. Every link of a request dies with its answer or
    its expiry (the request's `expires_at`). The hash is unique per organization; it is indexed
    alone for the lookup of links e-mailed before tokens carried their organization."""

    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, db_index=True)
    purpose = models.CharField(max_length=10, default="invite")  # invite | reminder
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "journey_surveylink"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "token_hash"], name="engagement_surveylink_token_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} link for feedback {self.feedback_id}"


class EngagementSettings(TenantModel):
    """An organization's engagement settings: which service models get gate surveys and the
    weights of the client health score. One row per organization, created on demand."""

    gate_surveys_disabled_for = models.JSONField(
        default=list, blank=True, help_text="Service models that get no automatic gate surveys."
    )
    health_weights = models.JSONField(
        default=dict, blank=True, help_text="Weight per health component (missing: default)."
    )

    class Meta:
        db_table = "journey_engagementsettings"
        verbose_name_plural = "engagement settings"
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="journey_engagement_one_per_org")
        ]

    def __str__(self) -> str:
        return f"Engagement settings of {self.organization_id}"


class Playbook(TenantModel):
    """How a service model is served: touchpoint cadence and target duration per phase, and
    how often a senior leader should join. One per organization and service model."""

    service_model = models.CharField(max_length=20, choices=ServiceModel.choices)
    cadence_days = models.JSONField(
        default=dict, help_text="Phase -> days between touchpoints at most (null: no rule)."
    )
    target_days = models.JSONField(
        default=dict, help_text="Phase -> target duration in days (null: no target)."
    )
    senior_leader_expected = models.BooleanField(default=False)
    senior_leader_every_days = models.PositiveIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)

    constraint_fields = {"journey_playbook_one_per_model": "service_model"}

    class Meta:
        db_table = "journey_playbook"
        ordering = ["service_model"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "service_model"], name="journey_playbook_one_per_model"
            ),
            models.CheckConstraint(
                condition=choice_in("service_model", ServiceModel),
                name="journey_playbook_service_model_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_model_display()} playbook"


class AlertKind(models.TextChoices):
    LOW_SCORE = "low_score", "Low score: follow up"
    CADENCE = "cadence", "Client past its touchpoint cadence"
    STUCK = "stuck", "Project past its phase target"
    MILESTONE_OVERDUE = "milestone_overdue", "Milestone overdue"
    SURVEY_UNANSWERED = "survey_unanswered", "Survey unanswered"
    SENIOR_LEADER = "senior_leader", "Senior leader overdue"


class Alert(TenantModel):
    """Something a person should act on. `cause_key` names the cause (and its episode), so
    a rule raised twice finds the first alert: at most one open alert per cause."""

    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    cause_key = models.CharField(max_length=200)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    feedback = models.ForeignKey(
        Feedback, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    title = models.CharField(max_length=300)
    message = models.TextField(blank=True)
    raised_at = models.DateTimeField()
    snoozed_until = models.DateField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_note = models.TextField(blank=True)

    constraint_fields = {"journey_alert_one_open_per_cause": "cause_key"}

    class Meta:
        db_table = "journey_alert"
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "cause_key"],
                condition=Q(resolved_at__isnull=True),
                name="journey_alert_one_open_per_cause",
                violation_error_message="An open alert for this cause already exists.",
            ),
            models.CheckConstraint(
                condition=choice_in("kind", AlertKind), name="journey_alert_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "assignee", "resolved_at"]),
            models.Index(fields=["organization", "cause_key"]),
            # The inbox and the API list: newest first, a page at a time.
            models.Index(
                fields=["organization", "-raised_at", "-id"], name="engagement_alert_recent"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class ClientHealthSnapshot(TenantModel):
    """A client's health score on one day, with its breakdown: the trend on the client page."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="health_snapshots")
    day = models.DateField()
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    components = models.JSONField(default=dict)

    class Meta:
        db_table = "journey_clienthealthsnapshot"
        ordering = ["client_id", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "client", "day"], name="journey_health_one_per_day"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__lte=100),
                name="journey_health_score_range",
            ),
        ]
        indexes = [models.Index(fields=["organization", "day"])]

    def __str__(self) -> str:
        return f"{self.client_id} {self.day}: {self.score}"


class ClientHealthCurrent(TenantModel):
    """A client's health now, with its breakdown: what the dashboard, the at-risk list, the
    clients list and the API read. Written by `health_refresh` after a change to the client
    (and by the daily snapshot, since time alone moves the cadence and stuck components)."""

    # One row per client (the constraint below); a foreign key, not a one-to-one, so the
    # only unique key includes the organization (the schema distributes by organization).
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    components = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "client"], name="engagement_health_current_one"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__lte=100),
                name="engagement_health_current_score_range",
            ),
        ]
        indexes = [
            # The API's list (lowest first) and the at-risk list read this order.
            models.Index(fields=["organization", "score", "client"]),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.score}"
