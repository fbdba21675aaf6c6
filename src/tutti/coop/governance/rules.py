"""How a vote is decided, as pure functions of the published ballots: anyone recounting uses these same rules.

``quorum_percent`` of the electorate (fixed when the vote opened) must cast a ballot (abstaining counts towards
the quorum); then a *simple* majority passes with more yes than no (a tie fails), a *super* majority with at least
two thirds of the yes and no votes. Weights (1 by default) multiply a ballot's choice, never its count towards
the quorum.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CHOICES: dict[str, str] = {"yes": "for the proposal", "no": "against it", "abstain": "neither, but counted present"}
PASSED, FAILED, NO_QUORUM = "passed", "failed", "no-quorum"


@dataclass(frozen=True)
class Rules:
    """The rules a proposal was opened under; frozen in the proposal and never changed while it is open."""

    quorum_percent: int
    threshold: str
    weighting: str

    def to_json(self) -> dict[str, Any]:
        return {"quorum_percent": self.quorum_percent, "threshold": self.threshold, "weighting": self.weighting}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Rules:
        return cls(int(raw["quorum_percent"]), str(raw["threshold"]), str(raw["weighting"]))


@dataclass(frozen=True)
class Ballot:
    """A published ballot: its tracking code, the choice and its weight; nothing about who cast it."""

    tracking_code: str
    choice: str
    weight: int = 1


@dataclass(frozen=True)
class Tally:
    """Weighted totals of each choice, and how many ballots were cast."""

    yes: int
    no: int
    abstain: int
    ballots: int

    def to_json(self) -> dict[str, int]:
        return {"yes": self.yes, "no": self.no, "abstain": self.abstain, "ballots": self.ballots}


def count(ballots: Iterable[Ballot]) -> Tally:
    """The tally of ``ballots``."""
    totals = dict.fromkeys(CHOICES, 0)
    cast = 0
    for ballot in ballots:
        totals[ballot.choice] += ballot.weight
        cast += 1
    return Tally(totals["yes"], totals["no"], totals["abstain"], cast)


def quorum_reached(ballots: int, electorate: int, quorum_percent: int) -> bool:
    return electorate > 0 and ballots * 100 >= quorum_percent * electorate


def outcome(tally: Tally, electorate: int, rules: Rules) -> str:
    """passed, failed or no-quorum."""
    if not quorum_reached(tally.ballots, electorate, rules.quorum_percent):
        return NO_QUORUM
    if rules.threshold == "super":
        passed = tally.yes > 0 and 3 * tally.yes >= 2 * (tally.yes + tally.no)
    else:
        passed = tally.yes > tally.no
    return PASSED if passed else FAILED
