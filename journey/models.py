"""The journey domain: clients (sponsors), contacts, projects, the phase journal, milestones,
touchpoints and feedback. Fields, constraints and choices only; the rules live in services."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from accounts.tenancy import TenantManager, TenantModel, TenantQuerySet
from journey.scales import score_in_range_q

SANE_EARLIEST = dt.date(1990, 1, 1)


class Segment(models.TextChoices):
    BIG_PHARMA = "big_pharma", "Big pharma"
    MID_PHARMA = "mid_pharma", "Mid-size pharma"
    BIOTECH = "biotech", "Biotech"
    VIRTUAL_BIOTECH = "virtual_biotech", "Virtual biotech"
    ACADEMIC = "academic", "Academic"


class ServiceModel(models.TextChoices):
    TRANSACTIONAL = "transactional", "Transactional"
    CONSULTATIVE = "consultative", "Consultative"

    @classmethod
    def default_for(cls, segment: str) -> str:
        """Big and mid pharma buy process; everyone else wants a partner."""
        if segment in (Segment.BIG_PHARMA, Segment.MID_PHARMA):
            return cls.TRANSACTIONAL
        return cls.CONSULTATIVE


class SizeBand(models.TextChoices):
    STARTUP = "startup", "Start-up (< 50 employees)"
    SMALL = "small", "Small (50-249)"
    MEDIUM = "medium", "Medium (250-999)"
    LARGE = "large", "Large (1,000-9,999)"
    ENTERPRISE = "enterprise", "Enterprise (10,000+)"


class Modality(models.TextChoices):
    SMALL_MOLECULE = "small_molecule", "Small molecule"
    PEPTIDE = "peptide", "Peptide"
    BIOLOGIC = "biologic", "Biologic"
    ADC = "adc", "ADC"
    CELL_THERAPY = "cell_therapy", "Cell therapy"
    GENE_THERAPY = "gene_therapy", "Gene therapy"
    MRNA = "mrna", "mRNA"
    VACCINE = "vaccine", "Vaccine"
    OTHER = "other", "Other"


class Region(models.TextChoices):
    NORTH_AMERICA = "north_america", "North America"
    EUROPE = "europe", "Europe"
    ASIA_PACIFIC = "asia_pacific", "Asia-Pacific"
    LATIN_AMERICA = "latin_america", "Latin America"
    MIDDLE_EAST_AFRICA = "middle_east_africa", "Middle East & Africa"


class ClientStatus(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    ACTIVE = "active", "Active"
    DORMANT = "dormant", "Dormant"
    LOST = "lost", "Lost"


class ServiceType(models.TextChoices):
    PROCESS_DEVELOPMENT = "process_development", "Process development"
    ANALYTICAL_DEVELOPMENT = "analytical_development", "Analytical development"
    FORMULATION = "formulation", "Formulation"
    CLINICAL_MANUFACTURING = "clinical_manufacturing", "Clinical manufacturing"
    COMMERCIAL_MANUFACTURING = "commercial_manufacturing", "Commercial manufacturing"
    FILL_FINISH = "fill_finish", "Fill & finish"
    TECH_TRANSFER = "tech_transfer", "Technology transfer"
    STABILITY = "stability", "Stability studies"
    OTHER = "other", "Other"


class Phase(models.TextChoices):
    ASSESS = "assess", "Assess"
    INITIATE = "initiate", "Initiate"
    PLAN = "plan", "Plan"
    EXECUTE = "execute", "Execute"
    CLOSE_OUT = "close_out", "Close-out"

    @classmethod
    def order(cls) -> list[str]:
        return [p.value for p in cls]

    @classmethod
    def index(cls, phase: str) -> int:
        return cls.order().index(phase)


class ProjectStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    LOST = "lost", "Lost"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def terminal(cls) -> frozenset[str]:
        return frozenset({cls.COMPLETED, cls.LOST, cls.CANCELLED})

    @classmethod
    def open(cls) -> tuple[str, ...]:
        """An open project is active or on hold: it has not ended."""
        return (cls.ACTIVE, cls.ON_HOLD)


# What a move (`journey.services.transitions.project_transition`) may name as `to`: a phase
# or a status. Here, below the services, so the API's serializers read it without importing
# them.
STATUS_TARGETS = ("lost", "completed", "cancelled", "on_hold", "active")
TARGETS = (*Phase.order(), *STATUS_TARGETS)


def open_project_q(path: str = "") -> Q:
    """The projects that are open (`ProjectStatus.open`), reached through `path` (e.g.
    "projects__" from a client, "project__" from a milestone)."""
    return Q(**{f"{path}status__in": ProjectStatus.open()})


class TransitionKind(models.TextChoices):
    OPENED = "opened", "Opened (assessment started)"
    WON = "won", "Won (assess -> initiate)"
    ADVANCED = "advanced", "Advanced one phase"
    LOST = "lost", "Lost (assessment decided against us)"
    COMPLETED = "completed", "Completed (close-out finished)"
    CANCELLED = "cancelled", "Cancelled"
    ON_HOLD = "on_hold", "Put on hold"
    RESUMED = "resumed", "Resumed"
    CORRECTED = "corrected", "Corrected by an admin (backward or skipping move)"


class TouchpointKind(models.TextChoices):
    MEETING = "meeting", "Meeting"
    CALL = "call", "Call"
    EMAIL = "email", "E-mail"
    SITE_VISIT = "site_visit", "Site visit"
    BUSINESS_REVIEW = "business_review", "Business review"
    EXECUTIVE_REVIEW = "executive_review", "Executive review"


class FeedbackKind(models.TextChoices):
    CSAT = "csat", "CSAT (1-5)"
    NPS = "nps", "NPS (0-10)"


class FeedbackOrigin(models.TextChoices):
    RECORDED = "recorded", "Recorded directly (API, import, by hand)"
    REQUEST = "request", "Requested from a contact"
    GATE = "gate", "Requested automatically at a phase gate"


def choice_in(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": choices.values})


class Client(TenantModel):
    """A sponsor: the company the CDMO serves."""

    name = models.CharField(max_length=200)
    segment = models.CharField(max_length=20, choices=Segment.choices)
    size_band = models.CharField(max_length=20, choices=SizeBand.choices, blank=True)
    modalities = models.JSONField(default=list, blank=True, help_text="List of modality codes.")
    service_model = models.CharField(max_length=20, choices=ServiceModel.choices)
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_clients",
    )
    region = models.CharField(max_length=30, choices=Region.choices, blank=True)
    status = models.CharField(
        max_length=20, choices=ClientStatus.choices, default=ClientStatus.PROSPECT
    )
    notes = models.TextField(blank=True)

    # constraint name -> input field it concerns (for clear domain errors)
    constraint_fields = {
        "journey_client_name_uniq": "name",
        "journey_client_segment_valid": "segment",
        "journey_client_service_model_valid": "service_model",
        "journey_client_status_valid": "status",
        "journey_client_size_band_valid": "size_band",
        "journey_client_region_valid": "region",
        "journey_client_name_not_blank": "name",
    }

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                F("organization"),
                Lower("name"),
                name="journey_client_name_uniq",
                violation_error_message="A client with this name already exists.",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="journey_client_name_not_blank"),
            models.CheckConstraint(
                condition=choice_in("segment", Segment), name="journey_client_segment_valid"
            ),
            models.CheckConstraint(
                condition=choice_in("service_model", ServiceModel),
                name="journey_client_service_model_valid",
            ),
            models.CheckConstraint(
                condition=choice_in("status", ClientStatus), name="journey_client_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(size_band="") | choice_in("size_band", SizeBand),
                name="journey_client_size_band_valid",
            ),
            models.CheckConstraint(
                condition=Q(region="") | choice_in("region", Region),
                name="journey_client_region_valid",
            ),
        ]
        indexes = [models.Index(fields=["organization", "segment"])]

    def __str__(self) -> str:
        return self.name


class Contact(TenantModel):
    """A person at a client."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    title = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    is_primary = models.BooleanField(default=False)

    constraint_fields = {
        "journey_contact_one_primary": "is_primary",
        "journey_contact_email_uniq": "email",
        "journey_contact_name_not_blank": "name",
    }

    class Meta:
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "client"],
                condition=Q(is_primary=True),
                name="journey_contact_one_primary",
                violation_error_message="This client already has a primary contact.",
            ),
            models.UniqueConstraint(
                F("organization"),
                F("client"),
                Lower("email"),
                condition=~Q(email=""),
                name="journey_contact_email_uniq",
                violation_error_message="This client already has a contact with this e-mail.",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="journey_contact_name_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


class ProjectQuerySet(TenantQuerySet):
    def open(self) -> ProjectQuerySet:
        return self.filter(open_project_q())


class Project(TenantModel):
    """An engagement with a client. `phase` and `status` mirror the last journal entry."""

    objects = TenantManager.from_queryset(ProjectQuerySet)()

    # RESTRICT, not PROTECT: a client with projects cannot be deleted on its own, but
    # deleting the whole organization still cascades through both.
    client = models.ForeignKey(Client, on_delete=models.RESTRICT, related_name="projects")
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=40)
    modality = models.CharField(max_length=20, choices=Modality.choices)
    service_type = models.CharField(max_length=30, choices=ServiceType.choices, blank=True)
    project_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_projects",
    )
    executive_sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sponsored_projects",
    )
    contract_value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    description = models.TextField(blank=True)
    opened_at = models.DateTimeField(
        help_text="The assessment started: RFP or first request received."
    )
    phase = models.CharField(
        max_length=20, choices=Phase.choices, default=Phase.ASSESS, editable=False
    )
    status = models.CharField(
        max_length=20, choices=ProjectStatus.choices, default=ProjectStatus.ACTIVE, editable=False
    )
    # Number of journal entries; the conditional update on it makes concurrent moves safe.
    journal_seq = models.PositiveIntegerField(default=0, editable=False)
    # The time of the latest journal entry in the current phase (holds and resumes aside),
    # kept by the journey service with phase and status: the board's order, the stuck rule.
    phase_entered_at = models.DateTimeField(null=True, blank=True, editable=False)

    constraint_fields = {
        "journey_project_code_uniq": "code",
        "journey_project_code_not_blank": "code",
        "journey_project_name_not_blank": "name",
        "journey_project_modality_valid": "modality",
        "journey_project_service_type_valid": "service_type",
        "journey_project_phase_valid": "phase",
        "journey_project_status_valid": "status",
        "journey_project_contract_value_nonneg": "contract_value",
        "journey_project_currency_format": "currency",
    }

    class Meta:
        ordering = ["-opened_at", "id"]
        constraints = [
            models.UniqueConstraint(
                F("organization"),
                Lower("code"),
                name="journey_project_code_uniq",
                violation_error_message="A project with this code already exists.",
            ),
            models.CheckConstraint(condition=~Q(code=""), name="journey_project_code_not_blank"),
            models.CheckConstraint(condition=~Q(name=""), name="journey_project_name_not_blank"),
            models.CheckConstraint(
                condition=choice_in("modality", Modality), name="journey_project_modality_valid"
            ),
            models.CheckConstraint(
                condition=Q(service_type="") | choice_in("service_type", ServiceType),
                name="journey_project_service_type_valid",
            ),
            models.CheckConstraint(
                condition=choice_in("phase", Phase), name="journey_project_phase_valid"
            ),
            models.CheckConstraint(
                condition=choice_in("status", ProjectStatus), name="journey_project_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(contract_value__isnull=True) | Q(contract_value__gte=0),
                name="journey_project_contract_value_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="journey_project_currency_format"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "phase", "status"]),
            models.Index(fields=["organization", "project_manager"]),
            # The projects list: newest first, a page at a time.
            models.Index(
                fields=["organization", "-opened_at", "id"], name="journey_project_recent"
            ),
            # The board: open projects per phase, longest in it first.
            models.Index(
                fields=["organization", "phase", "phase_entered_at", "id"],
                condition=Q(status__in=["active", "on_hold"]),
                name="journey_project_open_board",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_open(self) -> bool:
        return self.status not in ProjectStatus.terminal()


class PhaseTransition(TenantModel):
    """One entry of a project's journey journal. Append-only: phase dates derive from it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="transitions")
    seq = models.PositiveIntegerField(help_text="1 for the opening entry, then +1 per entry.")
    kind = models.CharField(max_length=20, choices=TransitionKind.choices)
    # None only on the opening entry ("None -> assess" in SPEC), hence null over "".
    from_phase = models.CharField(max_length=20, choices=Phase.choices, null=True, blank=True)  # noqa: DJ001
    to_phase = models.CharField(max_length=20, choices=Phase.choices)
    from_status = models.CharField(  # noqa: DJ001 - None on the opening entry
        max_length=20, choices=ProjectStatus.choices, null=True, blank=True
    )
    to_status = models.CharField(max_length=20, choices=ProjectStatus.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    reason = models.TextField(blank=True, help_text="Why an admin corrected the journey.")

    constraint_fields = {"journey_transition_seq_uniq": "to"}

    class Meta:
        ordering = ["project_id", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "project", "seq"],
                name="journey_transition_seq_uniq",
                violation_error_message="Someone else moved this project a moment ago; reload it and try again.",
            ),
            models.CheckConstraint(
                condition=choice_in("kind", TransitionKind), name="journey_transition_kind_valid"
            ),
            models.CheckConstraint(
                condition=choice_in("to_phase", Phase), name="journey_transition_to_phase_valid"
            ),
            models.CheckConstraint(
                condition=Q(from_phase__isnull=True) | choice_in("from_phase", Phase),
                name="journey_transition_from_phase_valid",
            ),
            models.CheckConstraint(
                condition=choice_in("to_status", ProjectStatus),
                name="journey_transition_to_status_valid",
            ),
            # Only the opening entry has no "from"; a correction must say why.
            models.CheckConstraint(
                condition=Q(kind="opened", from_phase__isnull=True, seq=1)
                | (~Q(kind="opened") & Q(from_phase__isnull=False, seq__gt=1)),
                name="journey_transition_opening_shape",
            ),
            models.CheckConstraint(
                condition=~Q(kind="corrected") | ~Q(reason=""),
                name="journey_transition_correction_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "kind", "at"]),
            models.Index(fields=["organization", "to_phase", "at"]),
            # The dashboard's funnel: which projects entered which phase, from the index alone.
            models.Index(
                fields=["organization", "kind", "project", "to_phase"],
                name="journey_transition_funnel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_phase or '-'} -> {self.to_phase} ({self.kind}) at {self.at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("The journey journal is append-only.")
        super().save(*args, **kwargs)


class Milestone(TenantModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    phase = models.CharField(max_length=20, choices=Phase.choices)
    title = models.CharField(max_length=200)
    due_date = models.DateField()
    completed_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)

    constraint_fields = {
        "journey_milestone_title_uniq": "title",
        "journey_milestone_title_not_blank": "title",
        "journey_milestone_phase_valid": "phase",
        "journey_milestone_due_date_sane": "due_date",
        "journey_milestone_completed_at_sane": "completed_at",
    }

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                F("organization"),
                F("project"),
                F("phase"),
                Lower("title"),
                name="journey_milestone_title_uniq",
                violation_error_message="This project already has a milestone with this title in this phase.",
            ),
            models.CheckConstraint(
                condition=~Q(title=""), name="journey_milestone_title_not_blank"
            ),
            models.CheckConstraint(
                condition=choice_in("phase", Phase), name="journey_milestone_phase_valid"
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=SANE_EARLIEST), name="journey_milestone_due_date_sane"
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True)
                | Q(completed_at__gte=dt.datetime(1990, 1, 1, tzinfo=dt.UTC)),
                name="journey_milestone_completed_at_sane",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "completed_at"]),
            # Overdue milestones (the overview, the alert rule): open ones by due date.
            models.Index(
                fields=["organization", "due_date", "id"],
                condition=Q(completed_at__isnull=True),
                name="journey_milestone_open_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None


class Touchpoint(TenantModel):
    """An interaction with a client, optionally about one of its projects."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="touchpoints")
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="touchpoints"
    )
    kind = models.CharField(max_length=20, choices=TouchpointKind.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    senior_leader_present = models.BooleanField(default=False)
    summary = models.TextField(blank=True)

    constraint_fields = {"journey_touchpoint_kind_valid": "kind"}

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=choice_in("kind", TouchpointKind), name="journey_touchpoint_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "at"]),
            models.Index(fields=["client", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} with {self.client_id} at {self.at:%Y-%m-%d}"


class Feedback(TenantModel):
    """A CSAT or NPS score: requested at a phase gate and answered, or recorded directly."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="feedback")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback"
    )
    phase = models.CharField(max_length=20, choices=Phase.choices)
    kind = models.CharField(max_length=10, choices=FeedbackKind.choices)
    score = models.SmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    origin = models.CharField(
        max_length=10, choices=FeedbackOrigin.choices, default=FeedbackOrigin.RECORDED
    )
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the survey e-mail went out."
    )
    reminder_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the one reminder went out."
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="A request's survey links die at this time."
    )

    constraint_fields = {
        "journey_feedback_score_range": "score",
        "journey_feedback_answer_shape": "responded_at",
        "journey_feedback_kind_valid": "kind",
        "journey_feedback_phase_valid": "phase",
    }

    class Meta:
        verbose_name_plural = "feedback"
        ordering = ["-responded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=choice_in("kind", FeedbackKind), name="journey_feedback_kind_valid"
            ),
            models.CheckConstraint(
                condition=choice_in("phase", Phase), name="journey_feedback_phase_valid"
            ),
            models.CheckConstraint(
                condition=score_in_range_q(),
                name="journey_feedback_score_range",
                violation_error_message="CSAT scores run from 1 to 5, NPS scores from 0 to 10.",
            ),
            # One automatic survey per phase gate: the gate task may run twice.
            models.UniqueConstraint(
                fields=["organization", "project", "phase", "kind"],
                condition=Q(origin="gate"),
                name="journey_feedback_one_gate_survey",
                violation_error_message="This phase gate already has its survey.",
            ),
            # A score and its response time come together.
            models.CheckConstraint(
                condition=Q(score__isnull=True, responded_at__isnull=True)
                | Q(score__isnull=False, responded_at__isnull=False),
                name="journey_feedback_answer_shape",
            ),
        ]
        indexes = [models.Index(fields=["organization", "kind", "responded_at"])]

    def __str__(self) -> str:
        return f"{self.kind.upper()} {self.score if self.score is not None else '(pending)'}"


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    CHECKING = "checking", "Checking"
    INVALID = "invalid", "Has problems"
    READY = "ready", "Ready to write"
    WRITE_QUEUED = "write_queued", "Queued for writing"
    WRITING = "writing", "Writing"
    DONE = "done", "Written"
    FAILED = "failed", "Failed"

    @classmethod
    def running(cls) -> tuple[str, ...]:
        return (cls.QUEUED, cls.CHECKING, cls.WRITE_QUEUED, cls.WRITING)


class ImportJob(TenantModel):
    """A CSV file uploaded for import: kept (in the database, behind the organization's
    row-level security) between the check and the confirmed write, then dropped."""

    kind = models.CharField(max_length=20)
    filename = models.CharField(max_length=255, blank=True)
    content = models.BinaryField(editable=False)
    status = models.CharField(
        max_length=12, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED
    )
    row_count = models.PositiveIntegerField(default=0)
    rows_checked = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    problem_count = models.PositiveIntegerField(default=0)
    # [{"row": n, "column": c, "message": m}, ...], the first IMPORT_PROBLEMS_KEPT of them.
    problems = models.JSONField(default=list, blank=True)
    # The header and the first rows, for the preview.
    preview = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"import {self.kind} #{self.pk} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status in ImportJobStatus.running()
