"""A phase stay, defined once: when a project entered a phase, when the stay ended, and
whether that end *left* the phase (the sample behind `phase_duration_days`).

- A stay starts with every move into a phase: the opening entry (into assess), won and
  advanced (one step forward), and an admin's correction (forward or backward).
- A stay is *left* by the forward move out of it: won or advanced, an admin's correction to a
  later phase, the decision `lost` out of assess, and `completed` out of close-out.
- A stay also ends, without being left, by a backward correction (the project goes back to
  an earlier phase: a new stay starts there) and by a cancellation. Holds and resumes end
  nothing: time on hold counts in the phase.
- A project counts once per phase: its first leave of that phase, timed from the entry into
  the stay that leave ends (`counted`).

The project page reads `phase_stays`; the metrics engine builds its SQL from
`stay_start_sql` and `leave_sql`, the same rule in SQL; the playbook's p50 suggestions read
the stored `phase_duration_days`. `tests/journey/test_stays_agree.py` checks all three agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from journey.models import Phase, PhaseTransition, TransitionKind

NON_MOVES = (TransitionKind.ON_HOLD, TransitionKind.RESUMED)
FORWARD_STEPS = (TransitionKind.WON, TransitionKind.ADVANCED)
# The moves that end the project in the phase it is in, and leave that phase.
FINAL_LEAVES = {TransitionKind.LOST: Phase.ASSESS, TransitionKind.COMPLETED: Phase.CLOSE_OUT}


def is_leave(kind: str, from_phase: str | None, to_phase: str) -> bool:
    """Whether a journal entry leaves its `from_phase` forward (ends a counted stay)."""
    if kind in FORWARD_STEPS:
        return True
    if kind in FINAL_LEAVES:
        return from_phase == FINAL_LEAVES[kind]
    if kind == TransitionKind.CORRECTED and from_phase is not None:
        return Phase.index(to_phase) > Phase.index(from_phase)
    return False


def starts_stay(kind: str, from_phase: str | None, to_phase: str) -> bool:
    """Whether a journal entry moves the project into a (new) phase."""
    return kind not in NON_MOVES and (from_phase is None or from_phase != to_phase)


@dataclass(frozen=True)
class PhaseStay:
    phase: str
    entered_at: dt.datetime
    left_at: dt.datetime | None  # when the stay ended (None while the project is in it)
    left_by: str | None  # the kind of the entry that ended it
    leaves: bool = False  # ended by a forward move out of the phase
    counted: bool = False  # the project's first leave of this phase: what the metrics count

    @property
    def duration_days(self) -> float | None:
        if self.left_at is None:
            return None
        return (self.left_at - self.entered_at).total_seconds() / 86400


def phase_stays(journal: Iterable[PhaseTransition]) -> list[PhaseStay]:
    """The stays of one project, from its journal in order."""
    stays: list[PhaseStay] = []
    counted: set[str] = set()
    current: tuple[str, dt.datetime] | None = None

    def end(t: PhaseTransition) -> None:
        phase, entered = current
        leaves = is_leave(t.kind, t.from_phase, t.to_phase)
        first = leaves and phase not in counted
        if first:
            counted.add(phase)
        stays.append(PhaseStay(phase, entered, t.at, t.kind, leaves, first))

    for t in journal:
        if t.kind in NON_MOVES:
            continue
        if t.kind == TransitionKind.OPENED:
            current = (t.to_phase, t.at)
            continue
        if current is not None:  # every other move ends the stay the project is in
            end(t)
        current = (t.to_phase, t.at) if starts_stay(t.kind, t.from_phase, t.to_phase) else None
    if current is not None:
        stays.append(PhaseStay(current[0], current[1], None, None))
    return stays


# --- the same rule, in SQL (the metrics engine) ---------------------------------------------
def _phase_index_sql(col: str) -> str:
    whens = " ".join(f"WHEN '{p}' THEN {i}" for i, p in enumerate(Phase.order()))
    return f"(CASE {col} {whens} END)"


def stay_start_sql(alias: str) -> str:
    """True on a journal row that starts a stay (`starts_stay`)."""
    non_moves = ", ".join(f"'{k}'" for k in NON_MOVES)
    return (
        f"({alias}.kind NOT IN ({non_moves}) AND "
        f"({alias}.from_phase IS NULL OR {alias}.from_phase <> {alias}.to_phase))"
    )


def leave_sql(alias: str) -> str:
    """True on a journal row that leaves its from_phase forward (`is_leave`)."""
    steps = ", ".join(f"'{k}'" for k in FORWARD_STEPS)
    finals = " OR ".join(
        f"({alias}.kind = '{kind}' AND {alias}.from_phase = '{phase}')"
        for kind, phase in FINAL_LEAVES.items()
    )
    corrected = (
        f"({alias}.kind = '{TransitionKind.CORRECTED}' AND "
        f"{_phase_index_sql(f'{alias}.to_phase')} > {_phase_index_sql(f'{alias}.from_phase')})"
    )
    return f"({alias}.kind IN ({steps}) OR {finals} OR {corrected})"
