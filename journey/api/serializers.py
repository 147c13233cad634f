"""Shapes only: input serializers check types, output serializers render. Rules live in the
services; an input serializer never decides anything about the journey."""

from __future__ import annotations

from rest_framework import serializers

from journey.models import (
    TARGETS,
    Client,
    ClientStatus,
    Contact,
    Feedback,
    FeedbackKind,
    Milestone,
    Modality,
    Phase,
    PhaseTransition,
    Project,
    Region,
    Segment,
    ServiceModel,
    ServiceType,
    SizeBand,
    Touchpoint,
    TouchpointKind,
)


def _email_of():
    return serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)


def _person(help_text: str):
    return serializers.EmailField(
        required=False, allow_null=True, allow_blank=True, help_text=help_text
    )


# --- clients --------------------------------------------------------------------------------
class ClientOut(serializers.ModelSerializer):
    account_manager = _email_of()

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "segment",
            "size_band",
            "modalities",
            "service_model",
            "account_manager",
            "region",
            "status",
            "notes",
            "created_at",
            "updated_at",
        ]


class ClientIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    segment = serializers.ChoiceField(choices=Segment.choices)
    size_band = serializers.ChoiceField(choices=SizeBand.choices, required=False, allow_blank=True)
    modalities = serializers.ListField(
        child=serializers.ChoiceField(choices=Modality.choices), required=False, max_length=20
    )
    service_model = serializers.ChoiceField(
        choices=ServiceModel.choices,
        required=False,
        allow_blank=True,
        help_text="Defaults from the segment: big/mid pharma transactional, others consultative.",
    )
    account_manager = _person("E-mail of a member of the organization.")
    region = serializers.ChoiceField(choices=Region.choices, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ClientStatus.choices, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20000)


# --- contacts -------------------------------------------------------------------------------
class ContactOut(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id",
            "client",
            "name",
            "email",
            "title",
            "phone",
            "is_primary",
            "created_at",
            "updated_at",
        ]


class ContactIn(serializers.Serializer):
    client = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="Id of a client of this organization."
    )
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=50)
    is_primary = serializers.BooleanField(
        required=False, help_text="Naming a new primary contact demotes the previous one."
    )


# --- projects -------------------------------------------------------------------------------
class ProjectOut(serializers.ModelSerializer):
    project_manager = _email_of()
    executive_sponsor = _email_of()
    contract_value = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, read_only=True
    )
    phase_entered_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When the project entered its current phase."
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "client",
            "name",
            "code",
            "modality",
            "service_type",
            "project_manager",
            "executive_sponsor",
            "contract_value",
            "currency",
            "description",
            "opened_at",
            "phase",
            "status",
            "phase_entered_at",
            "created_at",
            "updated_at",
        ]


class ProjectIn(serializers.Serializer):
    client = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="Id of a client of this organization."
    )
    name = serializers.CharField(max_length=200)
    code = serializers.CharField(max_length=40, help_text="Unique in the organization.")
    modality = serializers.ChoiceField(choices=Modality.choices)
    service_type = serializers.ChoiceField(
        choices=ServiceType.choices, required=False, allow_blank=True
    )
    project_manager = _person("E-mail of a member; none by default.")
    executive_sponsor = _person("E-mail of a member.")
    contract_value = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        coerce_to_string=True,
    )
    currency = serializers.CharField(
        required=False, min_length=3, max_length=3, help_text="ISO 4217, e.g. USD"
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    opened_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When the assessment started; defaults to now; may be back-dated, never in the future.",
    )


class ProjectPatchIn(ProjectIn):
    """As ProjectIn; the journey fields are accepted only to explain why they cannot change."""

    opened_at = serializers.DateTimeField(required=False, help_text="Read-only after opening.")
    phase = serializers.CharField(
        required=False, help_text="Read-only: use the transition endpoint."
    )
    status = serializers.CharField(
        required=False, help_text="Read-only: use the transition endpoint."
    )


class TransitionIn(serializers.Serializer):
    to = serializers.ChoiceField(
        choices=[(t, t) for t in TARGETS],
        help_text="A phase (one step forward), or lost, completed, cancelled, on_hold, active.",
    )
    at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Defaults to now; may be back-dated but not before the previous move.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=5000,
        help_text="Required for an admin's backward or skipping correction.",
    )


class TransitionOut(serializers.ModelSerializer):
    by = _email_of()

    class Meta:
        model = PhaseTransition
        fields = [
            "id",
            "seq",
            "kind",
            "from_phase",
            "to_phase",
            "from_status",
            "to_status",
            "at",
            "by",
            "note",
            "reason",
        ]


# --- milestones -----------------------------------------------------------------------------
class MilestoneOut(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = [
            "id",
            "project",
            "phase",
            "title",
            "due_date",
            "completed_at",
            "notes",
            "created_at",
            "updated_at",
        ]


class MilestoneIn(serializers.Serializer):
    project = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="Id of a project of this organization."
    )
    phase = serializers.ChoiceField(choices=Phase.choices)
    title = serializers.CharField(max_length=200)
    due_date = serializers.DateField()
    completed_at = serializers.DateTimeField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20000)


# --- touchpoints ----------------------------------------------------------------------------
class TouchpointOut(serializers.ModelSerializer):
    by = _email_of()

    class Meta:
        model = Touchpoint
        fields = [
            "id",
            "client",
            "project",
            "kind",
            "at",
            "by",
            "senior_leader_present",
            "summary",
            "created_at",
            "updated_at",
        ]


class TouchpointIn(serializers.Serializer):
    client = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    project = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        help_text="Optional; a project of that client.",
    )
    kind = serializers.ChoiceField(choices=TouchpointKind.choices)
    at = serializers.DateTimeField()
    by = _person("E-mail of a member; defaults to the acting user (none for an API key).")
    senior_leader_present = serializers.BooleanField(required=False)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=20000)


# --- feedback -------------------------------------------------------------------------------
class FeedbackOut(serializers.ModelSerializer):
    class Meta:
        model = Feedback
        fields = [
            "id",
            "project",
            "phase",
            "kind",
            "score",
            "comment",
            "contact",
            "responded_at",
            "requested_at",
            "created_at",
            "updated_at",
        ]


class FeedbackIn(serializers.Serializer):
    project = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    kind = serializers.ChoiceField(choices=FeedbackKind.choices)
    phase = serializers.ChoiceField(
        choices=Phase.choices, help_text="A phase the project had entered by responded_at (or now)."
    )
    score = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=10,
        help_text="CSAT 1-5 or NPS 0-10; with responded_at for a recorded score.",
    )
    responded_at = serializers.DateTimeField(required=False, allow_null=True)
    contact = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        help_text="A contact of the project's client; required for a request.",
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=20000)
