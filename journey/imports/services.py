"""Importing a CSV file of one kind: checked whole, then written all or nothing.

The check runs every row through the same service the API calls, inside a transaction that
is rolled back: the journey's rules (one phase at a time, not before the previous move, dates
from 1990 and plans at most ten years ahead, ...) are the services' own, never a copy, and a
row sees the rows above it (moves apply in file order per project). Shapes and references are
checked first, per cell, so a row reports every bad cell, not only the first; a row whose
cells are all readable then gets the service's verdict. Writing is the same run, committed
only when no row has a problem, so the journal, audit events, metric refreshes and outbox
rows are exactly those of the same changes typed in the browser or sent to the API.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.utils import timezone

from accounts.errors import DomainError, PermissionDeniedError
from accounts.models import Organization, User
from accounts.outbox import task_enqueue
from accounts.permissions import Actor, Perm
from journey.errors import JourneyError
from journey.imports.kinds import (
    KINDS,
    Kind,
    References,
    RowProblem,
    normalize_datetime,
    split_list,
)
from journey.imports.parse import CsvFileError, ParsedFile, parse_csv
from journey.models import ImportJob, ImportJobStatus

log = logging.getLogger(__name__)

MAX_ROWS = 100_000
MAX_BYTES = 20 * 1024 * 1024
PROBLEMS_KEPT = 5_000  # stored on a job (the count is kept whole)
PREVIEW_ROWS = 10
JOB_HOURS = 24  # an uploaded file waits this long for its confirmation
PROGRESS_EVERY = 250
CHECK_TASK = "journey.tasks.import_job_check_task"
WRITE_TASK = "journey.tasks.import_job_write_task"

Progress = Callable[[int], None]
# Free text keeps its spaces and line breaks; every other cell is trimmed.
TEXT_COLUMNS = {"notes", "summary", "comment", "description", "note", "reason"}


def file_size(size: int) -> str:
    """A size as people read it: '20 MB', '350 KB', '100 bytes'."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f}".removesuffix(".0") + " MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return f"row {self.row}, column {self.column}: {self.message}"
        return f"row {self.row}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    kind: str
    row_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    written: int = 0  # rows written (0 unless the file was clean and committed)
    header: list[str] = field(default_factory=list)
    preview: list[list] = field(default_factory=list)  # [row number, cells]

    @property
    def clean(self) -> bool:
        return not self.problems


def _kind(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise JourneyError(
            f"'{kind}' is not a kind of import. Choose one of: {', '.join(KINDS)}.", field="kind"
        ) from None


def _header_problems(kind: Kind, header: list[str]) -> tuple[list[Problem], set[str]]:
    """Unknown, repeated and missing columns (all on row 1); and the required columns that
    are missing, whose cells the rows then do not report again."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for column in header:
        if not column:
            problems.append(Problem(1, "(empty)", "A column has no name."))
        elif column not in kind.all_columns:
            problems.append(
                Problem(
                    1,
                    column,
                    f"Unknown column. The columns of a {kind.name} file are: "
                    f"{', '.join(kind.columns)}.",
                )
            )
        elif column in seen:
            problems.append(Problem(1, column, "This column appears twice."))
        seen.add(column)
    missing = {c for c in kind.required if c not in seen}
    for column in kind.required:
        if column in missing:
            problems.append(Problem(1, column, "Missing required column."))
    for ref in kind.refs:
        if ref.required and ref.by_key not in seen and ref.by_id not in seen:
            problems.append(
                Problem(1, ref.by_key, f"Missing required column {ref.by_key} (or {ref.by_id}).")
            )
            missing.add(ref.field)
    return problems, missing


@dataclass
class _Row:
    number: int
    data: dict[str, Any]  # the service's keywords, before the serializer
    columns: dict[str, str]  # a service field -> the column it came from


class _Run:
    """One pass over a file: every row through its service, in one transaction."""

    def __init__(self, *, actor: Actor, kind: Kind, parsed: ParsedFile, progress: Progress | None):
        self.actor, self.kind, self.parsed, self.progress = actor, kind, parsed, progress
        self.refs = References(actor.organization)
        self.problems: list[Problem] = []
        self.written = 0
        self.seen_keys: dict[tuple, int] = {}

    def problem(self, row: int, column: str, message: str) -> None:
        self.problems.append(Problem(row, column, message))

    def run(self, *, missing: set[str]) -> None:
        header = self.parsed.header
        for done, (number, cells) in enumerate(self.parsed.rows, start=1):
            if len(cells) > len(header):
                extra = [c for c in cells[len(header) :] if c.strip()]
                if extra:
                    self.problem(
                        number,
                        "",
                        f"{len(cells)} cells but the header names {len(header)} columns.",
                    )
            values = {c: (cells[i] if i < len(cells) else "") for i, c in enumerate(header) if c}
            row = self.read(number, values, missing)
            if row is not None:
                self.write(row)
            if self.progress and (done % PROGRESS_EVERY == 0 or done == len(self.parsed.rows)):
                self.progress(done)

    def read(self, number: int, values: dict[str, str], missing: set[str]) -> _Row | None:
        """References resolved, cells turned into the serializer's input, every bad cell
        reported; None when the row has a problem."""
        kind = self.kind
        before = len(self.problems)
        data: dict[str, Any] = {}
        columns: dict[str, str] = {}
        for ref in kind.refs:
            by_key = values.get(ref.by_key, "").strip()
            by_id = values.get(ref.by_id, "").strip()
            column = ref.by_id if by_id and not by_key else ref.by_key
            columns[ref.field] = column
            try:
                if by_key and by_id:
                    raise RowProblem(ref.by_id, f"Give {ref.by_key} or {ref.by_id}, not both.")
                if not by_key and not by_id:
                    if ref.required and ref.field not in missing:
                        raise RowProblem(ref.by_key, "This field is required.")
                    continue
                lookup = getattr(self.refs, ref.field)
                data[ref.field] = lookup(column, by_key or by_id, by_id=bool(by_id))
            except RowProblem as exc:
                self.problem(number, exc.column, exc.message)
        for column, raw in values.items():
            if column in columns.values() or column not in kind.all_columns:
                continue
            if column in {r.by_key for r in kind.refs} | {r.by_id for r in kind.refs}:
                continue
            value = raw if column in TEXT_COLUMNS else raw.strip()
            if not value.strip():
                if column in kind.required and column not in missing:
                    self.problem(number, column, "This field is required.")
                continue
            columns[column] = column
            if column == "contact":
                try:
                    data["contact"] = self.refs.contact(
                        column, value, project_id=data.get("project")
                    )
                except RowProblem as exc:
                    self.problem(number, exc.column, exc.message)
                continue
            if column in kind.lists:
                data[column] = split_list(value)
            elif column in kind.datetimes:
                data[column] = normalize_datetime(value)
            else:
                data[column] = value
        if len(self.problems) > before:
            return None
        serializer = kind.serializer(data=data)
        if not serializer.is_valid():
            for name, messages in serializer.errors.items():
                if name in missing:
                    continue
                column = columns.get(name, name)
                self.problem(number, column, _first_message(messages))
            return None  # (a missing column's cells: reported once, on row 1)
        if kind.unique:
            reported, key_columns = kind.unique
            if all(serializer.validated_data.get(c) not in (None, "") for c in key_columns):
                key = tuple(str(serializer.validated_data[c]).casefold() for c in key_columns)
                first = self.seen_keys.get(key)
                if first is not None:
                    self.problem(
                        number,
                        columns.get(reported, reported),
                        f"Duplicate of row {first} in this file.",
                    )
                    return None
                self.seen_keys[key] = number
        # References are ids the serializer may not declare (a move's project is in its URL).
        values = {**serializer.validated_data}
        values.update({r.field: data[r.field] for r in kind.refs if r.field in data})
        return _Row(number, values, columns)

    def write(self, row: _Row) -> None:
        try:
            self.kind.write(actor=self.actor, **row.data)
        except PermissionDeniedError as exc:
            self.problem(row.number, "", exc.message)
        except DomainError as exc:
            column = row.columns.get(exc.field or "", exc.field or "")
            self.problem(row.number, column, exc.message)
        except DatabaseError as exc:  # a constraint no service names (should not happen)
            log.warning("import row %s: %s", row.number, exc)
            self.problem(row.number, "", "This row could not be written (the database refused it).")
        else:
            self.written += 1


def _first_message(messages: Any) -> str:
    if isinstance(messages, dict):  # a list field's per-item errors
        return " ".join(_first_message(m) for m in messages.values())
    if isinstance(messages, list) and messages:
        return " ".join(str(m) for m in messages)
    return str(messages)


def _import(
    *, actor: Actor, kind: str, data: bytes, commit: bool, progress: Progress | None = None
) -> ImportResult:
    actor.require(Perm.IMPORT)
    spec = _kind(kind)
    result = ImportResult(kind=spec.name)
    try:
        parsed = parse_csv(data)
    except CsvFileError as exc:
        result.problems = [Problem(1, "", str(exc))]
        return result
    result.row_count = len(parsed.rows)
    result.header = parsed.header
    result.preview = [[number, cells] for number, cells in parsed.rows[:PREVIEW_ROWS]]
    if result.row_count > MAX_ROWS:
        result.problems = [
            Problem(1, "", f"{result.row_count} rows; at most {MAX_ROWS} rows per file. Split it.")
        ]
        return result
    if not parsed.rows:
        result.problems = [Problem(1, "", "The file has a header but no rows.")]
    header_problems, missing = _header_problems(spec, parsed.header)
    run = _Run(actor=actor, kind=spec, parsed=parsed, progress=progress)
    run.problems.extend(header_problems)
    with transaction.atomic():
        run.run(missing=missing)
        if run.problems or not commit or result.problems:
            transaction.set_rollback(True)
    result.problems.extend(sorted(run.problems, key=lambda p: (p.row, p.column)))
    result.written = run.written if commit and not result.problems else 0
    return result


def csv_import_check(
    *, actor: Actor, kind: str, data: bytes, progress: Progress | None = None
) -> ImportResult:
    """Check a whole file and write nothing: every problem with its row and column."""
    return _import(actor=actor, kind=kind, data=data, commit=False, progress=progress)


def csv_import_apply(
    *, actor: Actor, kind: str, data: bytes, progress: Progress | None = None
) -> ImportResult:
    """Check the file again and, when it is clean, write it in one transaction through the
    services; with any problem nothing is written (`written` is 0)."""
    return _import(actor=actor, kind=kind, data=data, commit=True, progress=progress)


# --- import jobs: the browser's upload, preview and confirmed write --------------------------
def _progress_key(job: ImportJob) -> str:
    return f"import-job:{job.organization_id}:{job.pk}:progress"


def import_job_progress(job: ImportJob) -> int:
    """Rows checked or written so far by the running step (kept in the shared cache: the
    step's own transaction hides its database writes until it ends)."""
    if not job.is_running:
        return job.rows_written if job.status == ImportJobStatus.DONE else job.rows_checked
    return int(cache.get(_progress_key(job)) or 0)


@transaction.atomic
def import_job_create(*, actor: Actor, kind: str, filename: str, content: bytes) -> ImportJob:
    """Keep an uploaded file and queue its check (a Celery task through the outbox; in
    process without a broker)."""
    actor.require(Perm.IMPORT)
    spec = _kind(kind)
    if len(content) > MAX_BYTES:
        raise JourneyError(
            f"The file is {file_size(len(content))}; the limit is {file_size(MAX_BYTES)}. "
            "Split it into smaller files.",
            field="file",
        )
    job = ImportJob(
        organization=actor.organization,
        kind=spec.name,
        filename=filename[:255],
        content=content,
        created_by=actor.user,
        expires_at=timezone.now() + dt.timedelta(hours=JOB_HOURS),
    )
    job.save()
    task_enqueue(
        organization=actor.organization,
        task=CHECK_TASK,
        kwargs={"organization_id": actor.organization.pk, "job_id": job.pk},
    )
    return job


def import_job_get(*, organization: Organization, job_id: int, content: bool = False) -> ImportJob:
    """A job of this organization (another's is a 404, like a missing one)."""
    from django.http import Http404

    qs = ImportJob.objects.for_organization(organization).select_related("created_by")
    if not content:
        qs = qs.defer("content")
    job = qs.filter(pk=job_id).first()
    if job is None:
        raise Http404("No such import.")
    return job


def _job_actor(job: ImportJob) -> Actor:
    user = User.objects.filter(pk=job.created_by_id).first() if job.created_by_id else None
    if user is None:
        raise PermissionDeniedError("The person who uploaded this file is no longer a member.")
    return Actor.for_user(user, job.organization)


def _claim(job: ImportJob, frm: tuple[str, ...], to: str) -> bool:
    """Move a job's status with a conditional update (a task delivered twice runs once)."""
    return bool(
        ImportJob.objects.for_organization(job.organization_id)
        .filter(pk=job.pk, status__in=frm)
        .update(status=to, updated_at=timezone.now())
    )


def _finish(job: ImportJob, result: ImportResult | None, **values: Any) -> None:
    if result is not None:
        values.update(
            row_count=result.row_count,
            problem_count=len(result.problems),
            problems=[p.as_dict() for p in result.problems[:PROBLEMS_KEPT]],
            preview={"header": result.header, "rows": result.preview},
        )
    ImportJob.objects.for_organization(job.organization_id).filter(pk=job.pk).update(
        finished_at=timezone.now(), updated_at=timezone.now(), **values
    )


def _step(job: ImportJob, *, commit: bool) -> None:
    key = _progress_key(job)
    cache.set(key, 0, timeout=JOB_HOURS * 3600)
    try:
        actor = _job_actor(job)
        run = csv_import_apply if commit else csv_import_check
        result = run(
            actor=actor,
            kind=job.kind,
            data=bytes(job.content),
            progress=lambda done: cache.set(key, done, timeout=JOB_HOURS * 3600),
        )
    except DomainError as exc:
        _finish(job, None, status=ImportJobStatus.FAILED, error=exc.message)
        return
    except Exception as exc:
        log.exception("import job %s failed", job.pk)
        _finish(job, None, status=ImportJobStatus.FAILED, error=f"Unexpected error: {exc}")
        raise
    if result.problems:
        _finish(job, result, status=ImportJobStatus.INVALID, rows_checked=result.row_count)
    elif commit:
        # Written: the file itself is no longer needed.
        _finish(
            job,
            result,
            status=ImportJobStatus.DONE,
            rows_checked=result.row_count,
            rows_written=result.written,
            content=b"",
        )
    else:
        _finish(job, result, status=ImportJobStatus.READY, rows_checked=result.row_count)


def import_job_check(*, organization: Organization, job_id: int) -> ImportJob | None:
    """The check step (a task): every problem stored on the job, nothing written."""
    job = ImportJob.objects.for_organization(organization).filter(pk=job_id).first()
    if job is None or not _claim(job, (ImportJobStatus.QUEUED,), ImportJobStatus.CHECKING):
        return job
    _step(job, commit=False)
    return job


def import_job_confirm(*, actor: Actor, job_id: int) -> ImportJob:
    """'Write N rows': only a clean, checked, unexpired file; the write is queued."""
    actor.require(Perm.IMPORT)
    job = import_job_get(organization=actor.organization, job_id=job_id)
    if job.status != ImportJobStatus.READY:
        raise JourneyError(
            f"This file cannot be written now: it is {job.get_status_display().lower()}.",
            field="job",
        )
    if job.expires_at <= timezone.now():
        raise JourneyError("This upload has expired; upload the file again.", field="job")
    with transaction.atomic():
        if not _claim(job, (ImportJobStatus.READY,), ImportJobStatus.WRITE_QUEUED):
            raise JourneyError("This file is already being written.", field="job")
        task_enqueue(
            organization=actor.organization,
            task=WRITE_TASK,
            kwargs={"organization_id": actor.organization.pk, "job_id": job.pk},
        )
    job.refresh_from_db()
    return job


def import_job_write(*, organization: Organization, job_id: int) -> ImportJob | None:
    """The write step (a task): the file checked again and, clean, written in one
    transaction by the uploader, through the services."""
    job = ImportJob.objects.for_organization(organization).filter(pk=job_id).first()
    if job is None or not _claim(job, (ImportJobStatus.WRITE_QUEUED,), ImportJobStatus.WRITING):
        return job
    _step(job, commit=True)
    return job
