"""Checking an upload as read: can it be used at all, do its files agree, could a person have listened like this.

The checks themselves live in ``consistency`` and ``plausibility``; this stage runs them over the plays read and
words the reasons for a rejection the way the member reads them. It needs nothing but the upload.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tutti.coop.contributions import plausibility
from tutti.coop.contributions.consistency import Consistency, consistency
from tutti.coop.contributions.reading import Upload


@dataclass(frozen=True)
class Checked:
    """The upload as read, with the verdicts of the checks that need nothing but the upload."""

    upload: Upload
    consistency: Consistency | None
    plausibility: plausibility.Plausibility | None
    reasons: tuple[str, ...]
    # The reasons as codes, for scripts and the stewards: ``unreadable``, ``empty``, ``files-disagree``,
    # ``implausible:<check>`` for each failed check, ``implausible``.
    codes: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        """Readable and holding plays: worth fingerprinting (even when implausible, as evidence)."""
        return self.upload.error is None and self.upload.table.num_rows > 0

    @property
    def passed(self) -> bool:
        return (
            self.usable
            and self.consistency is not None
            and self.consistency.passed
            and self.plausibility is not None
            and self.plausibility.passed
        )


def check(upload: Upload) -> Checked:
    """Run the upload's own checks; the reasons name every failure."""
    if upload.error is not None:
        return Checked(upload, None, None, (f"the upload cannot be read: {upload.error}",), ("unreadable",))
    if upload.table.num_rows == 0:
        return Checked(upload, None, None, ("the upload holds no plays Tutti can read",), ("empty",))
    agreed = consistency(upload.table)
    return _worded(upload, agreed, plausibility.check(upload.table, implausible_records=upload.implausible))


def with_checks(checked: Checked, more: Sequence[plausibility.Check]) -> Checked:
    """``checked`` with ``more`` plausibility checks (those that compare with other members' plays,
    ``evidence``), scored and worded with the others."""
    if checked.plausibility is None or checked.consistency is None or not more:
        return checked
    plausible = plausibility.summarise([*checked.plausibility.checks, *more])
    return _worded(checked.upload, checked.consistency, plausible)


def _worded(upload: Upload, agreed: Consistency, plausible: plausibility.Plausibility) -> Checked:
    reasons = [f"files disagree: {agreed.reason}"] if not agreed.passed else []
    reasons += [f"implausible: {r}" for r in plausible.reasons]
    if not plausible.passed:
        reasons.append(f"plausibility score {plausible.score} of 100: too many traits unlike real listening histories")
    codes = ["files-disagree"] if not agreed.passed else []
    codes += [f"implausible:{c.name}" for c in plausible.checks if c.applicable and not c.passed]
    codes += ["implausible"] if not plausible.passed else []
    return Checked(upload, agreed, plausible, tuple(reasons), tuple(codes))
