"""A realistic demo organization, built through the services (rules and audit included).

Deterministic: the same seed and the same `today` give the same organization, row for row.
Everything happens before `today` (midnight UTC), spread over the two years before it.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.models import Organization, Role
from accounts.permissions import Actor
from accounts.selectors import member_list
from accounts.services import membership_add, organization_create
from accounts.tenancy import organization_scope
from journey import services
from journey.models import Phase, Segment

# Moves within this many days of `today` get a gate survey (sent, some answered, some
# reminded); older gates keep a directly recorded score, as a history import would.
SURVEY_RECENT_DAYS = 45
DEFAULT_PASSWORD = "demo-journey-2026"  # noqa: S105 - printed demo credential, by design

# (local part, full name, role). One per role first; extra AMs and PMs make the per-person
# dimensions worth looking at.
PEOPLE = [
    ("admin", "Alex Admin", Role.ADMIN),
    ("exec", "Evelyn Park", Role.EXECUTIVE),
    ("am", "Amira Haddad", Role.ACCOUNT_MANAGER),
    ("pm", "Paul Meyer", Role.PROJECT_MANAGER),
    ("viewer", "Victor Lang", Role.VIEWER),
    ("am2", "Jonas Berg", Role.ACCOUNT_MANAGER),
    ("am3", "Keiko Tanaka", Role.ACCOUNT_MANAGER),
    ("pm2", "Priya Raman", Role.PROJECT_MANAGER),
    ("pm3", "Lucas Ortega", Role.PROJECT_MANAGER),
    ("pm4", "Hannah Weiss", Role.PROJECT_MANAGER),
]

NAME_A = [
    "Norv",
    "Cel",
    "Aur",
    "Vex",
    "Lum",
    "Kyr",
    "Zen",
    "Ost",
    "Pyr",
    "Quin",
    "Ther",
    "Mer",
    "Hal",
    "Sol",
    "Tav",
    "Ely",
    "Bri",
    "Cor",
    "Dax",
    "Fen",
    "Gal",
    "Iso",
    "Jun",
    "Nov",
]
NAME_B = ["exa", "ora", "ion", "ita", "ova", "ix", "ara", "enza", "ani", "ico", "eon", "ys"]
SUFFIX = {
    Segment.BIG_PHARMA: ["Pharma", "Pharmaceuticals", "Health"],
    Segment.MID_PHARMA: ["Pharma", "Life Sciences", "Laboratories"],
    Segment.BIOTECH: ["Bio", "Therapeutics", "Biosciences", "Biologics"],
    Segment.VIRTUAL_BIOTECH: ["Therapeutics", "Bio", "Medicines"],
    Segment.ACADEMIC: ["University Hospital", "Institute", "Research Foundation"],
}
SEGMENT_COUNTS = [
    (Segment.BIG_PHARMA, 6),
    (Segment.MID_PHARMA, 7),
    (Segment.BIOTECH, 14),
    (Segment.VIRTUAL_BIOTECH, 8),
    (Segment.ACADEMIC, 5),
]
SIZE = {
    Segment.BIG_PHARMA: ["enterprise"],
    Segment.MID_PHARMA: ["large", "medium"],
    Segment.BIOTECH: ["small", "medium", "startup"],
    Segment.VIRTUAL_BIOTECH: ["startup"],
    Segment.ACADEMIC: ["medium", "large"],
}
# Contract value ranges (thousands) and assessment behaviour per segment.
VALUE_K = {
    Segment.BIG_PHARMA: (2000, 15000),
    Segment.MID_PHARMA: (900, 6000),
    Segment.BIOTECH: (300, 4000),
    Segment.VIRTUAL_BIOTECH: (150, 2500),
    Segment.ACADEMIC: (50, 600),
}
DECISION_DAYS = {
    Segment.BIG_PHARMA: (40, 110),
    Segment.MID_PHARMA: (30, 80),
    Segment.BIOTECH: (12, 45),
    Segment.VIRTUAL_BIOTECH: (10, 35),
    Segment.ACADEMIC: (20, 70),
}
WIN_RATE = {
    Segment.BIG_PHARMA: 0.5,
    Segment.MID_PHARMA: 0.55,
    Segment.BIOTECH: 0.68,
    Segment.VIRTUAL_BIOTECH: 0.62,
    Segment.ACADEMIC: 0.5,
}
PHASE_DAYS = {
    Phase.INITIATE: (8, 35),
    Phase.PLAN: (15, 60),
    Phase.EXECUTE: (60, 260),
    Phase.CLOSE_OUT: (12, 45),
}
REGIONS = [
    "north_america",
    "europe",
    "europe",
    "north_america",
    "asia_pacific",
    "latin_america",
    "middle_east_africa",
]
MODALITIES = [
    "small_molecule",
    "peptide",
    "biologic",
    "adc",
    "cell_therapy",
    "gene_therapy",
    "mrna",
    "vaccine",
]
SERVICE_TYPES = [
    "process_development",
    "analytical_development",
    "formulation",
    "clinical_manufacturing",
    "commercial_manufacturing",
    "fill_finish",
    "tech_transfer",
    "stability",
]
PROJECT_WORDS = [
    "Phase I supply",
    "Phase II scale-up",
    "Process validation",
    "Tech transfer",
    "Clinical batches",
    "Formulation development",
    "Stability programme",
    "PPQ campaign",
    "Analytical method transfer",
    "Commercial launch supply",
    "Tox batches",
    "Fill-finish run",
]
MILESTONES = {
    Phase.PLAN: ["Master batch record approved", "Quality agreement signed", "Materials ordered"],
    Phase.EXECUTE: [
        "Engineering run complete",
        "GMP batch released",
        "Analytical report issued",
        "Stability pull (3 months)",
    ],
}
FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Felix",
    "Grace",
    "Henrik",
    "Ines",
    "Jakob",
    "Laura",
    "Marco",
    "Nina",
    "Oskar",
    "Petra",
    "Rafael",
    "Sara",
    "Tomas",
    "Uma",
    "Wei",
]
LAST = [
    "Novak",
    "Schmidt",
    "Rossi",
    "Dubois",
    "Kim",
    "Patel",
    "Silva",
    "Jansen",
    "Larsen",
    "Moreau",
    "Fischer",
    "Costa",
    "Nakamura",
    "Okafor",
    "Ivanova",
    "Brennan",
]
TITLES = [
    "Head of CMC",
    "VP Technical Operations",
    "Director, External Manufacturing",
    "Supply Chain Lead",
    "Procurement Manager",
    "Chief Scientific Officer",
    "QA Director",
]


def _move(**kwargs):
    # The seeder writes its own gate surveys, on the demo's clock (see `DemoSeeder.gate_survey`).
    return services.project_transition(follow_up=False, **kwargs)


COMMENTS = [
    "",
    "",
    "Responsive team.",
    "Timelines slipped.",
    "Great communication.",
    "Documentation was slow.",
    "Felt like a partner.",
]
LOW_COMMENTS = [
    "Timelines slipped twice and we heard late.",
    "Hard to reach anyone senior.",
    "Batch record review took far too long.",
]
RESOLUTIONS = [
    "Called the sponsor; agreed a weekly status call.",
    "Executive review held; recovery plan shared.",
    "Apologised and reset timelines with their CMC lead.",
]


@dataclass
class DemoResult:
    organization: Organization
    password: str
    users: list[tuple[str, str]] = field(default_factory=list)  # (email, role)
    counts: dict[str, int] = field(default_factory=dict)


class DemoSeeder:
    """Seeds the journey: clients, contacts, projects and their moves, milestones,
    touchpoints and recorded feedback, on a fixed clock and random seed."""

    def __init__(
        self, org: Organization, rng: random.Random, today: dt.datetime, actors: dict[str, Actor]
    ):
        self.org, self.rng, self.today, self.actors = org, rng, today, actors
        self.ams = [a for a in actors.values() if a.role == Role.ACCOUNT_MANAGER]
        self.pms = [a for a in actors.values() if a.role == Role.PROJECT_MANAGER]
        self.exec = next(a for a in actors.values() if a.role == Role.EXECUTIVE)
        self.counts = {
            "clients": 0,
            "contacts": 0,
            "projects": 0,
            "transitions": 0,
            "milestones": 0,
            "touchpoints": 0,
            "feedback": 0,
        }
        self.codes: set[str] = set()

    def t(self, days_ago: float) -> dt.datetime:
        return (self.today - dt.timedelta(days=days_ago)).replace(second=0, microsecond=0)

    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def client_names(self) -> list[tuple[str, str]]:
        out, used = [], set()
        for segment, n in SEGMENT_COUNTS:
            while n:
                name = f"{self.pick(NAME_A)}{self.pick(NAME_B)} {self.pick(SUFFIX[segment])}"
                if name.split()[0] not in used:
                    used.add(name.split()[0])
                    out.append((segment, name))
                    n -= 1
        return out

    def run(self) -> None:
        for segment, name in self.client_names():
            self.seed_client(segment, name)
        self.seed_engagement()

    # Hooks of the engagement app's seeder (`engagement.demo`): the journey alone has none.
    def seed_engagement(self) -> None:
        """Everything above the journey (playbooks, alerts, health), after the clients."""

    def gate_survey(self, project, at_ago: float, nps: bool) -> None:
        """The gate survey of the move just made."""

    def seed_client(self, segment: str, name: str) -> None:
        rng = self.rng
        am = self.pick(self.ams)
        region = self.pick(REGIONS)
        client = services.client_create(
            actor=am,
            name=name,
            segment=segment,
            size_band=self.pick(SIZE[segment]),
            modalities=sorted(rng.sample(MODALITIES, rng.randint(1, 3)), key=MODALITIES.index),
            account_manager=am.user.email,
            region=region,
            notes=f"{Segment(segment).label} sponsor in {region.replace('_', ' ').title()}.",
        )
        self.counts["clients"] += 1
        contacts = []
        for i in range(rng.randint(1, 3)):
            first, last = self.pick(FIRST), self.pick(LAST)
            domain = name.split()[0].lower() + ".example"
            contacts.append(
                services.contact_create(
                    actor=am,
                    client=client.pk,
                    name=f"{first} {last}",
                    email=f"{first}.{last}{i}@{domain}".lower(),
                    title=self.pick(TITLES),
                    is_primary=(i == 0),
                )
            )
            self.counts["contacts"] += 1
        n_projects = {
            Segment.BIG_PHARMA: (4, 7),
            Segment.MID_PHARMA: (3, 6),
            Segment.BIOTECH: (3, 5),
            Segment.VIRTUAL_BIOTECH: (2, 4),
            Segment.ACADEMIC: (2, 3),
        }[segment]
        consultative = client.service_model == "consultative"
        spans = []
        for _ in range(rng.randint(*n_projects)):
            spans.append(self.seed_project(client, am, contacts, consultative))
        self.seed_touchpoints(client, am, consultative, spans)
        won = any(s[2] for s in spans)
        open_now = any(s[1] is None for s in spans)
        status = (
            "active"
            if open_now and won
            else "prospect"
            if open_now
            else ("dormant" if won else "lost")
        )
        services.client_update(actor=am, client_id=client.pk, status=status)

    def seed_project(self, client, am: Actor, contacts, consultative: bool):
        """Open a project and walk it through the journey until `today` stops it."""
        rng, segment = self.rng, client.segment
        opened_ago = 6 + 719 * rng.random() ** 1.5  # more work opened recently: a growing CDMO
        pm = self.pick(self.pms)
        code = f"{client.name[:3].upper()}-{rng.randint(100, 999)}"
        while code in self.codes:
            code = f"{client.name[:3].upper()}-{rng.randint(100, 999)}"
        self.codes.add(code)
        lo, hi = VALUE_K[segment]
        project = services.project_open(
            actor=am,
            client=client.pk,
            name=self.pick(PROJECT_WORDS),
            code=code,
            modality=self.pick(client.modalities),
            service_type=self.pick(SERVICE_TYPES),
            project_manager=pm.user.email,
            executive_sponsor=self.exec.user.email
            if segment in ("big_pharma", "mid_pharma")
            else None,
            contract_value=Decimal(rng.randint(lo, hi)) * 1000,
            currency="EUR" if client.region == "europe" else "USD",
            opened_at=self.t(opened_ago),
        )
        self.counts["projects"] += 1
        self.counts["transitions"] += 1
        clock = opened_ago  # days before today of the latest event
        # The decision.
        decided = clock - rng.uniform(*DECISION_DAYS[segment])
        if decided <= 0.5:
            return (opened_ago, None, False)
        won = rng.random() < WIN_RATE[segment]
        _move(
            actor=am,
            project_id=project.pk,
            to="initiate" if won else "lost",
            at=self.t(decided),
            note="Contract signed." if won else "Sponsor chose another CDMO.",
        )
        self.counts["transitions"] += 1
        self.maybe_feedback(project, contacts, "assess", decided, consultative)
        if not won:
            return (opened_ago, decided, False)
        clock = decided
        for phase in (Phase.INITIATE, Phase.PLAN, Phase.EXECUTE, Phase.CLOSE_OUT):
            stay = rng.uniform(*PHASE_DAYS[phase]) * (1.15 if not consultative else 1.0)
            if phase in MILESTONES:
                self.seed_milestones(project, pm, phase, clock, stay, consultative)
            if (
                phase in (Phase.PLAN, Phase.EXECUTE)
                and rng.random() < 0.1
                and clock - stay * 0.4 > 1
            ):
                held = clock - stay * 0.3
                _move(
                    actor=pm,
                    project_id=project.pk,
                    to="on_hold",
                    at=self.t(held),
                    note="Sponsor paused the programme.",
                )
                resume = held - rng.uniform(7, 60)
                self.counts["transitions"] += 1
                if resume <= 0.5:
                    return (opened_ago, None, True)
                _move(actor=pm, project_id=project.pk, to="active", at=self.t(resume))
                self.counts["transitions"] += 1
                clock = min(clock, resume + 0.01)
            leave = clock - stay
            if phase in (Phase.PLAN, Phase.EXECUTE) and rng.random() < 0.04 and leave > 0.5:
                _move(
                    actor=am,
                    project_id=project.pk,
                    to="cancelled",
                    at=self.t(clock - stay / 2),
                    note="Programme discontinued by sponsor.",
                )
                self.counts["transitions"] += 1
                return (opened_ago, clock - stay / 2, True)
            if leave <= 0.5:
                if rng.random() < 0.2 and clock > 2:  # some current work waits on the sponsor
                    _move(
                        actor=pm,
                        project_id=project.pk,
                        to="on_hold",
                        at=self.t(clock / 2),
                        note="Waiting for sponsor materials.",
                    )
                    self.counts["transitions"] += 1
                return (opened_ago, None, True)
            nxt = "completed" if phase == Phase.CLOSE_OUT else Phase.order()[Phase.index(phase) + 1]
            _move(actor=pm, project_id=project.pk, to=nxt, at=self.t(leave))
            self.counts["transitions"] += 1
            self.maybe_feedback(
                project, contacts, phase, leave, consultative, nps=(nxt == "completed")
            )
            clock = leave
        return (opened_ago, clock, True)

    def seed_milestones(
        self, project, pm: Actor, phase: str, start_ago: float, stay: float, consultative: bool
    ):
        rng = self.rng
        titles = rng.sample(MILESTONES[phase], rng.randint(1, min(3, len(MILESTONES[phase]))))
        for i, title in enumerate(titles):
            due_ago = start_ago - stay * (i + 1) / (len(titles) + 0.5)
            due = (self.today - dt.timedelta(days=due_ago)).date()
            milestone = services.milestone_create(
                actor=pm, project=project.pk, phase=phase, title=title, due_date=due.isoformat()
            )
            self.counts["milestones"] += 1
            slip = (
                rng.uniform(-6, 4)
                if rng.random() < (0.78 if consultative else 0.7)
                else rng.uniform(1, 20)
            )
            done_ago = due_ago - slip
            if done_ago > 0.5:
                services.milestone_complete(
                    actor=pm, milestone_id=milestone.pk, completed_at=self.t(done_ago)
                )

    def maybe_feedback(
        self, project, contacts, phase: str, at_ago: float, consultative: bool, nps: bool = False
    ):
        rng = self.rng
        if at_ago <= SURVEY_RECENT_DAYS:
            self.gate_survey(project, at_ago, nps)
            return
        if not nps and rng.random() > 0.6:
            return
        answered = at_ago - rng.uniform(1, 10)
        if answered <= 0.5:
            return
        if nps:
            score = min(10, max(0, round(rng.gauss(8.3 if consultative else 7.6, 1.6))))
            kind = "nps"
        else:
            score = min(5, max(1, round(rng.gauss(4.3 if consultative else 3.9, 0.8))))
            kind = "csat"
        services.feedback_create(
            actor=self.actors["am"],
            project=project.pk,
            kind=kind,
            score=score,
            phase=phase,
            responded_at=self.t(answered),
            contact=contacts[0].pk,
            comment=self.pick(
                [
                    "",
                    "",
                    "Responsive team.",
                    "Timelines slipped.",
                    "Great communication.",
                    "Documentation was slow.",
                    "Felt like a partner.",
                ]
            ),
        )
        self.counts["feedback"] += 1

    def seed_touchpoints(self, client, am: Actor, consultative: bool, spans):
        """Interactions while the client had work with us: consultative clients more often."""
        rng = self.rng
        start = max(s[0] for s in spans)
        end = max(0.6, min((s[1] if s[1] is not None else 0.6) for s in spans))
        cadence = (7, 18) if consultative else (22, 45)
        senior = 0.35 if consultative else 0.12
        admin_actor = self.actors["admin"]
        clock = start - rng.uniform(0, 5)
        kinds = [
            "meeting",
            "call",
            "call",
            "email",
            "email",
            "site_visit",
            "business_review",
            "executive_review",
        ]
        while clock > end:
            services.touchpoint_create(
                actor=admin_actor,
                client=client.pk,
                kind=self.pick(kinds),
                at=self.t(clock),
                by=am.user.email,
                senior_leader_present=rng.random() < senior,
                summary=self.pick(
                    [
                        "Weekly status",
                        "Timeline review",
                        "Quote discussion",
                        "Batch record review",
                        "Quarterly business review",
                        "Audit debrief",
                    ]
                ),
            )
            self.counts["touchpoints"] += 1
            clock -= rng.uniform(*cadence)


@transaction.atomic
def demo_seed(
    *,
    slug: str = "demo",
    name: str = "Demo CDMO",
    seed: int = 7,
    today: dt.date,
    password: str = DEFAULT_PASSWORD,
    seeder_class: type[DemoSeeder] = DemoSeeder,
) -> DemoResult:
    """Build the demo organization `slug` (which must not exist yet)."""
    anchor = dt.datetime.combine(today, dt.time(0, 0), tzinfo=dt.UTC)
    domain = f"{slug}.example"
    org, _, _ = organization_create(slug=slug, name=name, admin_email=f"admin@{domain}")
    with organization_scope(org):  # the demo writes only its own organization's rows
        admin_actor = Actor.system(org, label="seed_demo")
        hashed = make_password(password)  # hash once: the slow part of creating ten users
        for local, full_name, role in PEOPLE:
            membership, _ = membership_add(
                organization=org,
                email=f"{local}@{domain}",
                role=role,
                actor=admin_actor,
                full_name=full_name,
            )
            membership.user.full_name = membership.user.full_name or full_name
            membership.user.password = hashed
            membership.user.save(update_fields=["full_name", "password"])
        actors = {
            m.user.email.split("@")[0]: Actor.from_membership(m)
            for m in member_list(organization=org)
        }
        seeder = seeder_class(org, random.Random(seed), anchor, actors)
        seeder.run()
    result = DemoResult(organization=org, password=password, counts=seeder.counts)
    result.users = [(f"{local}@{domain}", role) for local, _, role in PEOPLE]
    return result
