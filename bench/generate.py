"""Synthetic benchmark data: organizations, people, clients, projects with a full and valid
journal, milestones, feedback and touchpoints, written straight into the tables.

Deterministic: the same size and seed give the same rows (same e-mails, names, times and
values; database ids are whatever the tables hand out next). Every time lies between
`START` and `ANCHOR` (a fixed instant in the past), so nothing is in the future and the data
does not depend on when it is generated.

The services are bypassed for speed (no audit, no recompute requests), but every row
satisfies the database constraints and the journey rules of `journey.services.transitions`:
seq 1..n from an `opened` entry, times strictly increasing, assess ends won or lost, one
phase forward at a time (`won`, then `advanced`), close-out ends `completed`, any open
project may be cancelled, holds pause and resume without changing the phase, a few admin
corrections (backward or skipping, with a reason); the project's phase, status and
journal_seq are those of its last entry.

Writes use COPY on PostgreSQL and executemany on SQLite, a chunk of projects at a time, so
memory stays flat whatever the size.

    python -m bench.generate --size small [--seed 7]      # into whatever DATABASE_URL says
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

UTC = dt.UTC
# The generated world's "today": fixed, in the past, so runs on different days agree.
ANCHOR = dt.datetime(2026, 6, 30, 18, 0, tzinfo=UTC)
START = dt.datetime(2022, 7, 1, tzinfo=UTC)

# Journal + event rows (transitions + milestones + feedback + touchpoints) per size.
SIZES = {"small": 10_000, "medium": 100_000, "large": 1_000_000}
DEFAULT_SEED = 20260630
# Organizations per size and their relative weights (tenants are not all alike).
ORG_WEIGHTS = {"small": [3, 2, 1], "medium": [4, 3, 2, 1], "large": [5, 4, 3, 2, 1]}

PHASES = ["assess", "initiate", "plan", "execute", "close_out"]
SEGMENTS = ["big_pharma", "mid_pharma", "biotech", "virtual_biotech", "academic"]
SEGMENT_WEIGHTS = [2, 3, 5, 3, 1]
SIZE_BANDS = ["startup", "small", "medium", "large", "enterprise"]
MODALITIES = [
    "small_molecule",
    "peptide",
    "biologic",
    "adc",
    "cell_therapy",
    "gene_therapy",
    "mrna",
    "vaccine",
    "other",
]
MODALITY_WEIGHTS = [6, 2, 5, 2, 2, 2, 1, 1, 1]
SERVICE_TYPES = [
    "process_development",
    "analytical_development",
    "formulation",
    "clinical_manufacturing",
    "commercial_manufacturing",
    "fill_finish",
    "tech_transfer",
    "stability",
    "other",
]
REGIONS = ["north_america", "europe", "asia_pacific", "latin_america", "middle_east_africa"]
TOUCH_KINDS = ["meeting", "call", "email", "site_visit", "business_review", "executive_review"]
TOUCH_WEIGHTS = [4, 5, 6, 1, 1, 1]
# Typical stay per phase, days (uniform between the bounds, plus a heavy tail for execute).
STAY_DAYS = {
    "assess": (5, 90),
    "initiate": (3, 40),
    "plan": (7, 60),
    "execute": (20, 240),
    "close_out": (5, 45),
}
CHUNK = 2_000  # projects per write

# Columns written per table (ids assigned here, so children can refer to parents).
COLUMNS = {
    "accounts_organization": ["id", "public_id", "slug", "name", "timezone", "created_at"],
    "accounts_user": [
        "id",
        "password",
        "last_login",
        "is_superuser",
        "email",
        "full_name",
        "is_active",
        "is_staff",
        "date_joined",
    ],
    "accounts_membership": ["id", "user_id", "organization_id", "role", "created_at"],
    "journey_client": [
        "id",
        "organization_id",
        "created_at",
        "updated_at",
        "name",
        "segment",
        "size_band",
        "modalities",
        "service_model",
        "account_manager_id",
        "region",
        "status",
        "notes",
    ],
    "journey_project": [
        "id",
        "organization_id",
        "created_at",
        "updated_at",
        "client_id",
        "name",
        "code",
        "modality",
        "service_type",
        "project_manager_id",
        "executive_sponsor_id",
        "contract_value",
        "currency",
        "description",
        "opened_at",
        "phase",
        "status",
        "journal_seq",
        "phase_entered_at",
    ],
    "journey_phasetransition": [
        "id",
        "organization_id",
        "created_at",
        "updated_at",
        "project_id",
        "seq",
        "kind",
        "from_phase",
        "to_phase",
        "from_status",
        "to_status",
        "at",
        "by_id",
        "note",
        "reason",
    ],
    "journey_milestone": [
        "id",
        "organization_id",
        "created_at",
        "updated_at",
        "project_id",
        "phase",
        "title",
        "due_date",
        "completed_at",
        "notes",
    ],
    "journey_feedback": [
        "id",
        "organization_id",
        "created_at",
        "updated_at",
        "project_id",
        "contact_id",
        "phase",
        "kind",
        "score",
        "comment",
        "requested_at",
        "responded_at",
    ],
    "journey_touchpoint": [
        "id",
        "organization_id",
        "created_at",
        "updated_at",
        "client_id",
        "project_id",
        "kind",
        "at",
        "by_id",
        "senior_leader_present",
        "summary",
    ],
}
EVENT_TABLES = (
    "journey_phasetransition",
    "journey_milestone",
    "journey_feedback",
    "journey_touchpoint",
)


# --- Writing -------------------------------------------------------------------------------


class Writer:
    """Buffers rows per table and writes them with COPY (PostgreSQL) or executemany (SQLite)."""

    def __init__(self, connection):
        self.connection = connection
        self.vendor = connection.vendor
        self.buffers: dict[str, list[tuple]] = {t: [] for t in COLUMNS}
        # Columns this generator does not set (added to the models later) get the model
        # field's default, so the writes keep satisfying NOT NULL as the schema grows.
        self.extra = _extra_columns()
        self.counts: Counter[str] = Counter()
        self.next_ids: dict[str, int] = {}
        with connection.cursor() as cursor:
            for table in COLUMNS:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                self.next_ids[table] = cursor.fetchone()[0] + 1

    def new_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def add(self, table: str, row: tuple) -> None:
        self.buffers[table].append(row)

    def flush(self, tables=None) -> None:
        for table in tables or COLUMNS:
            rows = self.buffers[table]
            if rows:
                self._write(table, rows)
                self.counts[table] += len(rows)
                self.buffers[table] = []

    def _write(self, table: str, rows: list[tuple]) -> None:
        extra_cols, extra_values = self.extra.get(table, ([], ()))
        cols = COLUMNS[table] + extra_cols
        if extra_cols:
            rows = [row + extra_values for row in rows]
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                buf = io.StringIO()
                for row in rows:
                    buf.write("\t".join(_pg_text(v) for v in row))
                    buf.write("\n")
                buf.seek(0)
                # COPY into a tenant table is refused under row-level security (forced on
                # every tenant table): COPY into a temporary staging table, then INSERT ...
                # SELECT, which the policies check like any insert.
                names = ", ".join(cols)
                stage = f"stage_{table}"
                cursor.execute(
                    f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} AS "
                    f"SELECT {names} FROM {table} WITH NO DATA"
                )
                cursor.execute(f"TRUNCATE {stage}")
                cursor.cursor.copy_expert(f"COPY {stage} ({names}) FROM STDIN", buf, size=1 << 20)
                cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage}")
            else:
                marks = ", ".join(["%s"] * len(cols))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})",
                    [tuple(_sqlite_value(self.connection, v) for v in row) for row in rows],
                )

    def reset_sequences(self) -> None:
        if self.vendor != "postgresql":
            return
        with self.connection.cursor() as cursor:
            for table in COLUMNS:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"GREATEST((SELECT MAX(id) FROM {table}), 1))"
                )


def _extra_columns() -> dict[str, tuple[list[str], tuple]]:
    from django.apps import apps

    out = {}
    for model in apps.get_models():
        table = model._meta.db_table
        if table not in COLUMNS:
            continue
        cols, values = [], []
        for f in model._meta.concrete_fields:
            if f.column in COLUMNS[table]:
                continue
            default = f.get_default()
            if default is None and not f.null:
                raise RuntimeError(f"{table}.{f.column}: no default; teach bench/generate.py")
            cols.append(f.column)
            values.append(default)
        out[table] = (cols, tuple(values))
    return out


def _pg_text(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | dict):
        value = json.dumps(value)
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return text


def _sqlite_value(connection, value):
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value


# --- The world -----------------------------------------------------------------------------


@dataclass
class Org:
    id: int
    slug: str
    pms: list[int] = field(default_factory=list)
    ams: list[int] = field(default_factory=list)
    leaders: list[int] = field(default_factory=list)  # executives and admin
    clients: list[int] = field(default_factory=list)
    client_weights: list[float] = field(default_factory=list)
    project_count: int = 0


def _micro(rng: random.Random, days_low: float, days_high: float) -> dt.timedelta:
    """A random duration with microsecond precision."""
    return dt.timedelta(
        microseconds=rng.randrange(int(days_low * 86_400e6), int(days_high * 86_400e6))
    )


def _stay(rng: random.Random, phase: str) -> dt.timedelta:
    low, high = STAY_DAYS[phase]
    if phase == "execute" and rng.random() < 0.1:
        high *= 2  # a few long manufacturing campaigns
    return _micro(rng, low, high)


class Generator:
    def __init__(
        self, connection, *, size: str, seed: int = DEFAULT_SEED, target: int | None = None
    ):
        self.rng = random.Random(f"{seed}:{size}")
        self.size = size
        self.target = target or SIZES[size]
        self.w = Writer(connection)
        self.now = ANCHOR  # created_at/updated_at of every row
        self.orgs: list[Org] = []
        self.kinds: Counter[str] = Counter()

    # People and organizations: a handful of rows, written first.
    def _people(self) -> None:
        from accounts.models import new_public_id

        w, rng = self.w, self.rng
        weights = ORG_WEIGHTS[self.size]
        total_w = sum(weights)
        for i, weight in enumerate(weights):
            slug = f"bench-{self.size}-{chr(ord('a') + i)}"
            org = Org(id=w.new_id("accounts_organization"), slug=slug)
            # Unique per row: a column default (`Writer.extra`) would repeat one value.
            w.add(
                "accounts_organization",
                (org.id, new_public_id(), slug, f"Bench {self.size} {i + 1}", "UTC", START),
            )
            share = self.target * weight / total_w
            n_pm = max(3, round(share / 2_500))
            n_am = max(2, round(share / 5_000))
            people = [("admin", "admin", 1), ("exec", "executive", 2)]
            people += [(f"pm{k + 1}", "project_manager", k) for k in range(n_pm)]
            people += [(f"am{k + 1}", "account_manager", k) for k in range(n_am)]
            for local, role, _k in people:
                uid = w.new_id("accounts_user")
                email = f"{local}@{slug}.example"
                w.add(
                    "accounts_user",
                    (uid, "!bench", None, False, email, local.upper(), True, False, START),
                )
                w.add(
                    "accounts_membership",
                    (w.new_id("accounts_membership"), uid, org.id, role, START),
                )
                if role == "project_manager":
                    org.pms.append(uid)
                elif role == "account_manager":
                    org.ams.append(uid)
                else:
                    org.leaders.append(uid)
            # About 55 journal+event rows per client over the four years.
            n_clients = max(12, round(share / 55))
            for k in range(n_clients):
                segment = rng.choices(SEGMENTS, SEGMENT_WEIGHTS)[0]
                model = (
                    "transactional" if segment in ("big_pharma", "mid_pharma") else "consultative"
                )
                if rng.random() < 0.15:
                    model = "consultative" if model == "transactional" else "transactional"
                am = None if rng.random() < 0.05 else rng.choice(org.ams)
                cid = w.new_id("journey_client")
                w.add(
                    "journey_client",
                    (
                        cid,
                        org.id,
                        self.now,
                        self.now,
                        f"Client {k + 1:05d} of {slug}",
                        segment,
                        rng.choice(SIZE_BANDS),
                        rng.sample(MODALITIES, rng.randint(1, 3)),
                        model,
                        am,
                        rng.choice(REGIONS),
                        "active",
                        "",
                    ),
                )
                org.clients.append(cid)
            self.orgs.append(org)
        # A client may have many projects: weight clients unevenly (a few big accounts).
        for org in self.orgs:
            org.client_weights = [rng.paretovariate(1.5) for _ in org.clients]
        w.flush(["accounts_organization", "accounts_user", "accounts_membership", "journey_client"])

    def _events_so_far(self) -> int:
        return sum(self.w.counts[t] + len(self.w.buffers[t]) for t in EVENT_TABLES)

    def run(self) -> dict[str, int]:
        self._people()
        orgs = self.orgs
        weights = ORG_WEIGHTS[self.size]
        chunk = 0
        while self._events_so_far() < self.target:
            org = self.rng.choices(orgs, weights)[0]
            self._project(org)
            chunk += 1
            if chunk >= CHUNK:
                self.w.flush(["journey_project", *EVENT_TABLES])
                chunk = 0
        # Touchpoints with a client only (no project), about 8% of all touchpoints.
        for org in orgs:
            for cid in org.clients:
                for _ in range(self.rng.randint(0, 4)):
                    at = START + _micro(self.rng, 0, (ANCHOR - START).days - 1)
                    self._touch(org, cid, None, at)
        self.w.flush()
        self.w.reset_sequences()
        return dict(self.w.counts)

    def _touch(self, org: Org, client_id: int, project_id: int | None, at: dt.datetime) -> None:
        rng = self.rng
        senior = rng.random() < 0.18
        by = (
            rng.choice(org.leaders)
            if senior and rng.random() < 0.7
            else rng.choice([*org.ams, *org.pms, None])
        )
        self.w.add(
            "journey_touchpoint",
            (
                self.w.new_id("journey_touchpoint"),
                org.id,
                self.now,
                self.now,
                client_id,
                project_id,
                rng.choices(TOUCH_KINDS, TOUCH_WEIGHTS)[0],
                at,
                by,
                senior,
                "",
            ),
        )

    def _project(self, org: Org) -> None:
        rng, w = self.rng, self.w
        pid = w.new_id("journey_project")
        org.project_count += 1
        client_id = rng.choices(org.clients, org.client_weights)[0]
        pm = None if rng.random() < 0.04 else rng.choice(org.pms)
        # Opened any time in the four years (more recently more often), never after ANCHOR.
        span = (ANCHOR - START).total_seconds()
        opened = START + dt.timedelta(microseconds=int(span * 1e6 * math.sqrt(rng.random())) // 1)
        opened = min(opened, ANCHOR - dt.timedelta(days=1))
        if rng.random() < 0.02:  # some at the very start of a month, to the microsecond
            opened = opened.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        journal = self._journal(rng, opened, org)
        last = journal[-1]
        value = (
            None if rng.random() < 0.05 else Decimal(rng.randrange(2_500_000, 800_000_000)) / 100
        )
        w.add(
            "journey_project",
            (
                pid,
                org.id,
                self.now,
                self.now,
                client_id,
                f"Project {org.project_count}",
                f"P-{org.project_count:06d}",
                rng.choices(MODALITIES, MODALITY_WEIGHTS)[0],
                rng.choice(["", *SERVICE_TYPES]),
                pm,
                None,
                value,
                "USD",
                "",
                opened,
                last[3],
                last[5],
                len(journal),
                # The latest entry in the current phase, holds and resumes aside.
                next(e[6] for e in reversed(journal) if e[0] not in ("on_hold", "resumed")),
            ),
        )
        by_choices = [pm, pm, None, *org.leaders]
        for seq, (kind, from_phase, from_status, to_phase, _x, to_status, at) in enumerate(
            journal, start=1
        ):
            self.kinds[kind] += 1
            w.add(
                "journey_phasetransition",
                (
                    w.new_id("journey_phasetransition"),
                    org.id,
                    self.now,
                    self.now,
                    pid,
                    seq,
                    kind,
                    from_phase,
                    to_phase,
                    from_status,
                    to_status,
                    at,
                    org.leaders[0] if kind == "corrected" else rng.choice(by_choices),
                    "",
                    "Recorded in the wrong phase." if kind == "corrected" else "",
                ),
            )
        self._events(org, pid, client_id, journal)

    @staticmethod
    def _journal(rng: random.Random, opened: dt.datetime, org: Org) -> list[tuple]:
        """(kind, from_phase, from_status, to_phase, _, to_status, at) entries, valid moves."""
        out = [("opened", None, None, "assess", None, "active", opened)]
        phase, status, t = "assess", "active", opened
        corrections = 0
        while True:
            # Maybe a hold inside the stay (time on hold counts in the phase).
            if rng.random() < 0.12:
                t_hold = t + _micro(rng, 0.5, 20)
                if t_hold > ANCHOR:
                    break
                out.append(("on_hold", phase, status, phase, None, "on_hold", t_hold))
                t = t_hold + _micro(rng, 1, 60)
                if t > ANCHOR:
                    break
                if rng.random() < 0.15:
                    out.append(("cancelled", phase, "on_hold", phase, None, "cancelled", t))
                    break
                out.append(("resumed", phase, "on_hold", phase, None, "active", t))
                status = "active"
            t_next = t + _stay(rng, phase)
            if t_next > ANCHOR:
                break  # still in this phase today
            r = rng.random()
            idx = PHASES.index(phase)
            if r < 0.03:
                out.append(("cancelled", phase, status, phase, None, "cancelled", t_next))
                break
            if phase == "assess":
                if r < 0.40:
                    out.append(("lost", phase, status, phase, None, "lost", t_next))
                    break
                if r < 0.41 and corrections == 0:  # an admin skips initiate
                    corrections += 1
                    out.append(("corrected", phase, status, "plan", None, "active", t_next))
                    phase, t = "plan", t_next
                    continue
                out.append(("won", phase, status, "initiate", None, "active", t_next))
                phase, t = "initiate", t_next
                continue
            if phase == "close_out":
                out.append(("completed", phase, status, phase, None, "completed", t_next))
                break
            if r < 0.05 and corrections == 0 and phase in ("plan", "execute"):
                # An admin moves it back one phase: it will leave that phase again later.
                corrections += 1
                back = PHASES[idx - 1]
                out.append(("corrected", phase, status, back, None, "active", t_next))
                phase, t = back, t_next
                continue
            if r < 0.06 and corrections == 0 and phase == "initiate":
                corrections += 1
                out.append(("corrected", phase, status, "execute", None, "active", t_next))
                phase, t = "execute", t_next
                continue
            out.append(("advanced", phase, status, PHASES[idx + 1], None, "active", t_next))
            phase, t = PHASES[idx + 1], t_next
        return out

    def _events(self, org: Org, pid: int, client_id: int, journal: list[tuple]) -> None:
        rng, w = self.rng, self.w
        # When each phase was first entered and last left (or ANCHOR if it never was).
        entered: dict[str, dt.datetime] = {}
        left: dict[str, dt.datetime] = {}
        for kind, from_phase, _fs, to_phase, _x, _ts, at in journal:
            if from_phase != to_phase:
                entered.setdefault(to_phase, at)
                if from_phase is not None:
                    left[from_phase] = at
            elif kind in ("lost", "completed"):
                left[from_phase] = at
        ended = journal[-1][6] if journal[-1][5] in ("lost", "completed", "cancelled") else ANCHOR

        # Milestones in the phases entered (mostly plan and execute).
        for phase, start in entered.items():
            per_phase = {"assess": 0, "initiate": 1, "plan": 2, "execute": 3, "close_out": 1}[phase]
            for i in range(rng.randint(max(0, per_phase - 1), per_phase + 1)):
                due_at = start + _micro(rng, 3, 60)
                due = due_at.date()
                r = rng.random()
                if r < 0.45:
                    done = due_at - _micro(rng, 0, 2)  # before (or on) the due date
                    done = max(done, start)
                elif r < 0.55:
                    # On the due date itself, late in the UTC day.
                    done = dt.datetime.combine(due, dt.time(23, 59, 59, 999_999), UTC)
                elif r < 0.62:
                    # First microsecond of the day after: one day late.
                    done = dt.datetime.combine(due + dt.timedelta(days=1), dt.time(0), UTC)
                elif r < 0.85:
                    done = due_at + _micro(rng, 1, 40)
                else:
                    done = None
                if done is not None and done > ANCHOR:
                    done = None
                w.add(
                    "journey_milestone",
                    (
                        w.new_id("journey_milestone"),
                        org.id,
                        self.now,
                        self.now,
                        pid,
                        phase,
                        f"{phase.replace('_', ' ').title()} milestone {i + 1}",
                        due,
                        done,
                        "",
                    ),
                )

        # CSAT when a phase is left, NPS now and then mid-way and at completion.
        def feedback(phase: str, kind: str, after: dt.datetime) -> None:
            requested = after + _micro(rng, 0, 3)
            responded = requested + _micro(rng, 0.01, 20)
            if requested > ANCHOR:
                return
            if responded > ANCHOR or rng.random() < 0.15:
                score, responded = None, None
            elif kind == "csat":
                score = rng.choices([1, 2, 3, 4, 5], [1, 2, 5, 10, 8])[0]
            else:
                score = rng.choices(range(11), [1, 1, 1, 1, 2, 2, 4, 8, 12, 14, 10])[0]
            w.add(
                "journey_feedback",
                (
                    w.new_id("journey_feedback"),
                    org.id,
                    self.now,
                    self.now,
                    pid,
                    None,
                    phase,
                    kind,
                    score,
                    "",
                    requested,
                    responded,
                ),
            )

        for phase in ("initiate", "plan", "execute", "close_out"):
            if phase in left and phase in entered:
                feedback(phase, "csat", left[phase])
        if "execute" in entered and rng.random() < 0.3:
            feedback("execute", "nps", entered["execute"] + _micro(rng, 5, 30))
        if journal[-1][0] == "completed":
            feedback("close_out", "nps", journal[-1][6])

        # Touchpoints over the project's life.
        opened = journal[0][6]
        life = max((ended - opened).total_seconds() / 86_400, 0.01)
        for _ in range(max(1, min(14, round(life / 45 + rng.random() * 2)))):
            self._touch(org, client_id, pid, opened + _micro(rng, 0, life))


def _aware(value) -> dt.datetime:
    """Raw SQLite rows come back naive (UTC); PostgreSQL's aware."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class _Admin:
    """An actor that may do everything (corrections included), for replaying journals."""

    def has(self, *args, **kwargs) -> bool:
        return True


def check_journals() -> list[str]:
    """Replay every project's journal through the journey rules (`plan_move`) and check the
    invariants the generator promises; returns the problems found (none when valid)."""
    from types import SimpleNamespace

    from django.db import connection

    from journey.errors import JourneyError
    from journey.services.transitions import plan_move

    target = {
        "lost": "lost",
        "completed": "completed",
        "cancelled": "cancelled",
        "on_hold": "on_hold",
        "resumed": "active",
    }
    problems: list[str] = []
    now = dt.datetime.now(UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, opened_at, phase, status, journal_seq FROM journey_project ORDER BY id"
        )
        projects = {r[0]: (_aware(r[1]), *r[2:]) for r in cursor.fetchall()}
        cursor.execute(
            "SELECT project_id, seq, kind, from_phase, to_phase, from_status, to_status, at "
            "FROM journey_phasetransition ORDER BY project_id, seq"
        )
        journals: dict[int, list[tuple]] = {}
        for row in cursor.fetchall():
            journals.setdefault(row[0], []).append((*row[1:7], _aware(row[7])))
        cursor.execute(
            "SELECT project_id, phase, responded_at FROM journey_feedback "
            "WHERE responded_at IS NOT NULL"
        )
        answers = [(p, ph, _aware(at)) for p, ph, at in cursor.fetchall()]
    entered: dict[tuple[int, str], dt.datetime] = {}
    for pid, (opened_at, phase, status, journal_seq) in projects.items():
        journal = journals.get(pid, [])
        state = SimpleNamespace(phase=None, status=None)
        previous_at = None
        for seq, kind, from_phase, to_phase, from_status, to_status, at in journal:
            where = f"project {pid} seq {seq}"
            if seq == 1:
                if (kind, from_phase, from_status, to_phase, to_status) != (
                    "opened",
                    None,
                    None,
                    "assess",
                    "active",
                ) or at != opened_at:
                    problems.append(f"{where}: bad opening entry")
            else:
                if (from_phase, from_status) != (state.phase, state.status):
                    problems.append(f"{where}: 'from' is not the previous state")
                to = target.get(kind, to_phase)
                try:
                    move = plan_move(state, to, actor=_Admin(), reason="replay")
                except JourneyError as exc:
                    problems.append(f"{where}: refused move {kind} -> {to}: {exc}")
                else:
                    if (move.kind, move.to_phase, move.to_status) != (kind, to_phase, to_status):
                        problems.append(f"{where}: {kind} recorded, the rules say {move}")
                if at <= previous_at:
                    problems.append(f"{where}: time does not increase")
            if at > now:
                problems.append(f"{where}: in the future")
            entered.setdefault((pid, to_phase), at)
            state.phase, state.status, previous_at = to_phase, to_status, at
        if [r[0] for r in journal] != list(range(1, len(journal) + 1)):
            problems.append(f"project {pid}: seq is not 1..n")
        if (phase, status, journal_seq) != (state.phase, state.status, len(journal)):
            problems.append(f"project {pid}: phase/status/journal_seq differ from the journal")
    for pid, phase, responded_at in answers:
        first = entered.get((pid, phase))
        if first is None or first > responded_at:
            problems.append(f"feedback of project {pid}: phase {phase} not entered by then")
    return problems


def generate(*, size: str = "small", seed: int = DEFAULT_SEED, target: int | None = None) -> dict:
    """Fill the current database; returns row counts per table and the organizations."""
    from django.db import connection, transaction

    started = time.monotonic()
    with transaction.atomic():
        gen = Generator(connection, size=size, seed=seed, target=target)
        counts = gen.run()
    events = sum(counts.get(t, 0) for t in EVENT_TABLES)
    return {
        "size": size,
        "seed": seed,
        "tables": counts,
        "events": events,
        "kinds": dict(gen.kinds),
        "organizations": [o.slug for o in gen.orgs],
        "seconds": round(time.monotonic() - started, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--target", type=int, help="journal+event rows (default: the size's)")
    args = parser.parse_args(argv)
    setup_django()
    result = generate(size=args.size, seed=args.seed, target=args.target)
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")


def setup_django() -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("DJANGO_ALLOW_DEV_SECRET", "1")
    import django

    django.setup()


if __name__ == "__main__":
    main()
