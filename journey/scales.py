"""The score scales, defined once: CSAT runs 1-5, NPS 0-10, and what counts as a low score
(the closed loop follows it up) and an NPS promoter or detractor. The model's constraint,
the services' validation, the survey page, the alert rules and the metrics engine read them
from here."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q


@dataclass(frozen=True)
class ScoreScale:
    kind: str
    low: int
    high: int
    # At or below this a score is "low": an unhappy CSAT or an NPS detractor.
    low_score_max: int

    @property
    def values(self) -> range:
        return range(self.low, self.high + 1)

    def contains(self, score: int) -> bool:
        return self.low <= score <= self.high

    def is_low(self, score: int | None) -> bool:
        return score is not None and score <= self.low_score_max

    @property
    def label(self) -> str:
        return f"{self.low}-{self.high}"


NPS_PROMOTER_MIN = 9
NPS_DETRACTOR_MAX = 6
SCALES: dict[str, ScoreScale] = {
    "csat": ScoreScale("csat", 1, 5, low_score_max=2),
    "nps": ScoreScale("nps", 0, 10, low_score_max=NPS_DETRACTOR_MAX),
}


def score_scale(kind: str) -> ScoreScale:
    return SCALES[kind]


def is_low_score(kind: str, score: int | None) -> bool:
    scale = SCALES.get(kind)
    return scale is not None and scale.is_low(score)


def score_in_range_q() -> Q:
    """The database's version of the rule: a score, when given, lies on its kind's scale."""
    q = Q(score__isnull=True)
    for scale in SCALES.values():
        q |= Q(kind=scale.kind, score__gte=scale.low, score__lte=scale.high)
    return q
