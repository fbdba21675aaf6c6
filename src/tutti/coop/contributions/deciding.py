"""Deciding: accepted, held or rejected, in the one transaction that records it.

The checks and the scoring ran before, holding no connection, against the member's pooled plays as they were
when the upload was picked up (``known.load``). The decision runs under the cooperative's lock
(``db.lock_cooperative``), one at a time, and reads again what may have changed meanwhile:

* the copy index (``copies.check``): an upload decided a moment earlier, of the same history or a part of it, is
  in it, so two concurrent uploads of one export cannot both pass as originals. The long look-up in a large index
  is made before the lock (``copies.look``), and only what was decided or dropped since is read under it;
* the member's own pool (``known.refresh``): another upload of theirs pooled meanwhile changes which plays are
  new, and the score is redone.

An upload that fails its own checks is rejected. One that matches another member's history is *held*, and so are
the contributions it matched: a match does not say which side is the owner, so neither earns until a steward
resolves the case (``cases``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tutti.coop.contributions import copies, known, scoring
from tutti.coop.contributions.checking import Checked
from tutti.coop.contributions.copies import Fingerprinted
from tutti.coop.contributions.known import Known
from tutti.coop.contributions.matching import Looked
from tutti.coop.contributions.report import CopyCheck
from tutti.coop.contributions.scoring import Scored
from tutti.coop.governance import policy
from tutti.coop.models import ContributionStatus

HELD_REASON = (
    "held for the stewards: {copy}; who the history belongs to is decided by a steward (the owner can show a "
    "newer export of it), and neither side earns points until then"
)


@dataclass(frozen=True)
class Decision:
    status: ContributionStatus
    # Why it was rejected or held (empty when accepted: an accepted upload keeps its notes in the checks).
    reasons: tuple[str, ...]
    copy_check: CopyCheck | None
    # The new plays and their points, when accepted.
    scored: Scored | None
    # Other members' contributions the upload matched (held with it), when held.
    matched: tuple[str, ...] = ()
    # The reasons as codes (``checking.Checked.codes``; ``held:copy`` or ``held:merge`` when held).
    codes: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.status is ContributionStatus.ACCEPTED

    @property
    def held(self) -> bool:
        return self.status is ContributionStatus.HELD

    @property
    def keeps_plays(self) -> bool:
        """Accepted uploads keep the plays as read, and so do held ones, as the case's evidence."""
        return self.accepted or self.held


def decide(
    session: Session,
    before: Known,
    checked: Checked,
    printed: Fingerprinted,
    scored: Scored | None,
    looked: Looked | None = None,
) -> Decision:
    """The verdict on the upload, against the cooperative as it is now (see the module docstring); ``looked``: the
    copy index as looked up before the lock, caught up here."""
    now = known.refresh(session, before)
    copy, matched = copies.check(session, before.member_id, printed, looked) if checked.usable else (None, ())
    if not checked.passed:
        return Decision(ContributionStatus.REJECTED, checked.reasons, copy, None, codes=checked.codes)
    if copy is not None and copy.near_copy:
        code = "held:copy" if copy.upload_share >= copy.history_share else "held:merge"
        reasons = (HELD_REASON.format(copy=copy.reason),)
        return Decision(ContributionStatus.HELD, reasons, copy, None, matched, (code,))
    if scored is None or now != before:
        own = now.own_plays()
        scored = scoring.score_new(printed.rows, own, copies.own_known(printed.rows, own))
    weights = policy.current(session).scoring_weights  # the members' weights in force as it is decided
    scored = scoring.with_returns(scored, known.prior_raw(session, now.member_id), weights)
    return Decision(ContributionStatus.ACCEPTED, (), copy, scored)
