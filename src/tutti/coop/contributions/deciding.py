"""Deciding: accepted or rejected, in the one transaction that records it.

The checks ran against what was known when the upload was picked up (``known.load``); meanwhile other uploads may
have been accepted, members may have withdrawn, and another upload of the same member may have been pooled. So
the decision reads that again (``known.refresh``) and redoes only what it changes: the copy check when the other
members' fingerprints changed, the new plays and the score when the member's own pool did. The caller holds the
cooperative's lock (``db.lock_cooperative``): decisions run one at a time, so two uploads decided at once cannot
miss each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tutti.coop.contributions import copies, known, scoring
from tutti.coop.contributions.checking import Checked
from tutti.coop.contributions.copies import Fingerprinted
from tutti.coop.contributions.known import Known
from tutti.coop.contributions.report import CopyCheck
from tutti.coop.contributions.scoring import Scored
from tutti.coop.models import ContributionStatus


@dataclass(frozen=True)
class Decision:
    status: ContributionStatus
    # Why it was rejected (empty when accepted: an accepted upload keeps its notes in the checks).
    reasons: tuple[str, ...]
    copy_check: CopyCheck | None
    # The new plays and their points, when accepted.
    scored: Scored | None

    @property
    def accepted(self) -> bool:
        return self.status is ContributionStatus.ACCEPTED

    @property
    def keeps_plays(self) -> bool:
        """Accepted uploads keep the plays as read, and so do near-copies, as evidence for the stewards."""
        return self.accepted or (self.copy_check is not None and self.copy_check.near_copy)


def decide(
    session: Session, before: Known, checked: Checked, printed: Fingerprinted, scored: Scored | None
) -> Decision:
    """The verdict on the upload, against the cooperative as it is now (see the module docstring)."""
    now = known.refresh(session, before)
    copy = printed.copy_check
    if checked.usable and now.others != before.others:
        copy = copies.compare(printed.rows, printed.fingerprint, now)
    near = copy is not None and copy.near_copy
    if not checked.passed or near:
        reasons = checked.reasons + ((f"near-copy, flagged for the stewards: {copy.reason}",) if copy and near else ())
        return Decision(ContributionStatus.REJECTED, reasons, copy, None)
    if scored is None or now.own_files != before.own_files:
        scored = scoring.score_new(printed.rows, now.own_plays())
    return Decision(ContributionStatus.ACCEPTED, (), copy, scored)
