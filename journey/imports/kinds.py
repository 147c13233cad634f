"""The kinds of import file: their columns (the API's field names), how a row's references
are found inside the organization, which input serializer checks the shapes and which
service writes the row. No rule of the journey is decided here: the services decide."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rest_framework import serializers

from accounts.models import Organization
from journey import services
from journey.api import serializers as api
from journey.models import Client, Contact, Project

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class RowProblem(Exception):
    """One cell of a row is wrong (a reference not found, a shape not met)."""

    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column, self.message = column, message


@dataclass(frozen=True)
class Ref:
    """A reference column pair: by name (or code, or e-mail) or by id."""

    field: str  # the service's keyword and the API's field name
    by_key: str  # column holding the name or code
    by_id: str  # column holding the id
    required: bool


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    columns: tuple[str, ...]  # the template's columns, in order
    required: tuple[str, ...]  # columns that must be present and filled (refs aside)
    serializer: type[serializers.Serializer]
    write: Callable[..., Any]  # (actor, **validated) -> the written object
    example: dict[str, str]
    refs: tuple[Ref, ...] = ()
    datetimes: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    # Columns whose values together must be unique in the file: (column reported, columns).
    unique: tuple[str, tuple[str, ...]] | None = None
    extra_columns: tuple[str, ...] = field(default=())

    @property
    def all_columns(self) -> set[str]:
        out = set(self.columns) | set(self.extra_columns)
        for ref in self.refs:
            out |= {ref.by_key, ref.by_id}
        return out


# --- references, resolved inside the organization (cached per file) -------------------------
class References:
    """Finds clients by name or id, projects by code or id, contacts by e-mail or id, always
    inside one organization; found ids are cached for the file."""

    def __init__(self, organization: Organization):
        self.organization = organization
        self._cache: dict[tuple[str, str], int | None] = {}

    def _lookup(self, what: str, value: str, query: Callable[[], int | None]) -> int | None:
        key = (what, value.casefold())
        if key not in self._cache:
            self._cache[key] = query()
        return self._cache[key]

    def client(self, column: str, value: str, *, by_id: bool) -> int:
        qs = Client.objects.for_organization(self.organization)
        if by_id:
            pk = _id(column, value)
            found = self._lookup(
                "client#", value, lambda: qs.filter(pk=pk).values_list("pk", flat=True).first()
            )
            if found is None:
                raise RowProblem(column, f"No client with id {pk} in this organization.")
            return found
        found = self._lookup(
            "client",
            value,
            lambda: qs.filter(name__iexact=value).values_list("pk", flat=True).first(),
        )
        if found is None:
            raise RowProblem(column, f"No client named '{value}' in this organization.")
        return found

    def project(self, column: str, value: str, *, by_id: bool) -> int:
        qs = Project.objects.for_organization(self.organization)
        if by_id:
            pk = _id(column, value)
            found = self._lookup(
                "project#", value, lambda: qs.filter(pk=pk).values_list("pk", flat=True).first()
            )
            if found is None:
                raise RowProblem(column, f"No project with id {pk} in this organization.")
            return found
        found = self._lookup(
            "project",
            value,
            lambda: qs.filter(code__iexact=value).values_list("pk", flat=True).first(),
        )
        if found is None:
            raise RowProblem(column, f"No project with code '{value}' in this organization.")
        return found

    def contact(self, column: str, value: str, *, project_id: int | None) -> int:
        """A contact by id, or by e-mail among the contacts of the project's client."""
        if "@" not in value:
            return _id(column, value)  # the service checks it is of the project's client
        if project_id is None:
            raise RowProblem(
                column, "Name the project first: a contact is found among its client's."
            )
        client_id = (
            Project.objects.for_organization(self.organization)
            .filter(pk=project_id)
            .values_list("client_id", flat=True)
            .first()
        )
        found = self._lookup(
            f"contact@{client_id}",
            value,
            lambda: (
                Contact.objects.for_organization(self.organization)
                .filter(client_id=client_id, email__iexact=value)
                .values_list("pk", flat=True)
                .first()
            ),
        )
        if found is None:
            raise RowProblem(column, f"The project's client has no contact with e-mail '{value}'.")
        return found


def _id(column: str, value: str) -> int:
    try:
        pk = int(value)
    except ValueError:
        raise RowProblem(column, f"'{value}' is not an id (a whole number).") from None
    if not 0 < pk < 2**63:
        raise RowProblem(column, f"'{value}' is not an id (a whole number).")
    return pk


# --- the writes: the API's services, with the rows' keywords ---------------------------------
def _transition(*, actor, project, **values):
    if not TRANSITION_TAKES_REASON_CODE:
        values.pop("reason_code", None)
    return services.project_transition(actor=actor, project_id=project, **values)


# A transition's decision reason (`reason_code`) goes to the journey service once it records
# one; until then a filled cell is refused rather than silently dropped.
TRANSITION_TAKES_REASON_CODE = (
    "reason_code" in inspect.signature(services.project_transition).parameters
)


class _TransitionIn(api.TransitionIn):
    reason_code = serializers.CharField(required=False, allow_blank=True, max_length=40)

    def validate_reason_code(self, value: str) -> str:
        if value and not TRANSITION_TAKES_REASON_CODE:
            raise serializers.ValidationError(
                "Decision reasons are not recorded by this version; leave reason_code empty."
            )
        return value


class _FeedbackIn(api.FeedbackIn):
    """An imported score is a recorded one (historic data): no survey request is sent."""

    score = serializers.IntegerField(min_value=0, max_value=10)
    responded_at = serializers.DateTimeField()
    contact = serializers.IntegerField(required=False, allow_null=True, min_value=1)


CLIENT_REF = Ref("client", "client", "client_id", required=True)
PROJECT_REF = Ref("project", "project", "project_id", required=True)
OPTIONAL_PROJECT_REF = Ref("project", "project", "project_id", required=False)

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in [
        Kind(
            name="clients",
            label="Clients",
            columns=(
                "name",
                "segment",
                "size_band",
                "modalities",
                "service_model",
                "account_manager",
                "region",
                "status",
                "notes",
            ),
            required=("name", "segment"),
            serializer=api.ClientIn,
            write=services.client_create,
            lists=("modalities",),
            unique=("name", ("name",)),
            example={
                "name": "Acme Bio",
                "segment": "biotech",
                "size_band": "",
                "modalities": "biologic, mrna",
                "service_model": "",
                "account_manager": "am@cdmo.example",
                "region": "",
                "status": "active",
                "notes": "Met at BIO 2024",
            },
        ),
        Kind(
            name="contacts",
            label="Contacts",
            columns=("client", "name", "email", "title", "phone", "is_primary"),
            required=("name",),
            refs=(CLIENT_REF,),
            serializer=api.ContactIn,
            write=services.contact_create,
            unique=("email", ("client", "email")),
            example={
                "client": "Acme Bio",
                "name": "Dana Lee",
                "email": "dana.lee@acmebio.example",
                "title": "Head of CMC",
                "phone": "",
                "is_primary": "true",
            },
        ),
        Kind(
            name="projects",
            label="Projects",
            columns=(
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
            ),
            required=("name", "code", "modality"),
            refs=(CLIENT_REF,),
            serializer=api.ProjectIn,
            write=services.project_open,
            datetimes=("opened_at",),
            unique=("code", ("code",)),
            example={
                "client": "Acme Bio",
                "name": "Phase I mAb supply",
                "code": "ACME-001",
                "modality": "biologic",
                "service_type": "",
                "project_manager": "pm@cdmo.example",
                "executive_sponsor": "",
                "contract_value": "1250000.00",
                "currency": "USD",
                "description": "",
                "opened_at": "2024-03-01T09:00:00Z",
            },
        ),
        Kind(
            name="transitions",
            label="Journey moves",
            columns=("project", "to", "at", "note", "reason", "reason_code"),
            required=("to",),
            refs=(PROJECT_REF,),
            serializer=_TransitionIn,
            write=_transition,
            datetimes=("at",),
            example={
                "project": "ACME-001",
                "to": "initiate",
                "at": "2024-04-15T10:00:00Z",
                "note": "Contract signed",
                "reason": "",
                "reason_code": "",
            },
        ),
        Kind(
            name="milestones",
            label="Milestones",
            columns=("project", "phase", "title", "due_date", "completed_at", "notes"),
            required=("phase", "title", "due_date"),
            refs=(PROJECT_REF,),
            serializer=api.MilestoneIn,
            write=services.milestone_create,
            datetimes=("completed_at",),
            unique=("title", ("project", "phase", "title")),
            example={
                "project": "ACME-001",
                "phase": "execute",
                "title": "GMP batch released",
                "due_date": "2024-09-30",
                "completed_at": "2024-09-25T16:00:00Z",
                "notes": "",
            },
        ),
        Kind(
            name="touchpoints",
            label="Touchpoints",
            columns=("client", "project", "kind", "at", "by", "senior_leader_present", "summary"),
            required=("kind", "at"),
            refs=(CLIENT_REF, OPTIONAL_PROJECT_REF),
            serializer=api.TouchpointIn,
            write=services.touchpoint_create,
            datetimes=("at",),
            example={
                "client": "Acme Bio",
                "project": "ACME-001",
                "kind": "meeting",
                "at": "2024-05-02T14:00:00Z",
                "by": "am@cdmo.example",
                "senior_leader_present": "false",
                "summary": "Kick-off follow-up",
            },
        ),
        Kind(
            name="feedback",
            label="Feedback (recorded scores)",
            columns=("project", "phase", "kind", "score", "comment", "contact", "responded_at"),
            required=("phase", "kind", "score", "responded_at"),
            refs=(PROJECT_REF,),
            serializer=_FeedbackIn,
            write=services.feedback_create,
            datetimes=("responded_at",),
            example={
                "project": "ACME-001",
                "phase": "initiate",
                "kind": "csat",
                "score": "4",
                "comment": "Responsive team.",
                "contact": "dana.lee@acmebio.example",
                "responded_at": "2024-05-20T08:00:00Z",
            },
        ),
    ]
}


def template_csv_rows(kind: Kind) -> list[list[str]]:
    """The downloadable template: the header and one example row."""
    return [list(kind.columns), [kind.example.get(c, "") for c in kind.columns]]


def split_list(value: str) -> list[str]:
    """A list cell: items separated by commas, semicolons or bars."""
    return [item.strip() for item in re.split(r"[,;|]", value) if item.strip()]


def normalize_datetime(value: str) -> str:
    """A date alone means its midnight UTC (what a spreadsheet column of days holds)."""
    value = value.strip()
    return f"{value}T00:00:00Z" if DATE_ONLY.match(value) else value
