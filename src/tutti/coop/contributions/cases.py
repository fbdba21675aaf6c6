"""Copy cases: contributions that share a history, held together until a steward says whose it is.

A match between two histories does not say which side is the original: a thief who uploads first looks exactly
like an owner who uploads first. So a match *holds* both sides (``hold``): the upload that matched, and every
contribution it matched (an accepted one leaves the pool and stops earning; its sealed plays stay as evidence).
Contributions matched by one upload join one case; an upload matching contributions of several cases merges
them.

A steward resolves a case (``resolve``) by naming its owner, or nobody. The owner is normally the member who can
bring a newer export that extends the history: their later upload matches the case and joins it, reaching
further in time than anything the others hold (``CaseView`` shows it as ``reaches_further``), which a thief,
who holds only what they took, cannot show. The owner's held contributions are accepted in the order they were
uploaded, scored as any upload (new plays only, with diminishing returns) and pooled from their sealed plays; the
others are rejected, their sealed plays (the evidence) deleted and their shingles dropped from the index. The
resolution is logged with ids and a reason code (``RESOLUTIONS``), never with free text.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop import audit, crypto, staged
from tutti.coop.actions import RESOLVE_CASE, require
from tutti.coop.contributions import copies, evidence, known, matching, scoring, sealed_reports
from tutti.coop.contributions.queries import report_of
from tutti.coop.db import lock_cooperative
from tutti.coop.errors import InvalidInput, NotFound
from tutti.coop.governance import policy
from tutti.coop.models import Contribution, ContributionStatus, CopyCase, Member, utcnow
from tutti.coop.pool import catalog
from tutti.coop.pool.contract import play_identity
from tutti.coop.pool.files import pool_of
from tutti.coop.settings import CoopSettings

# Why a case was resolved as it was: codes only, so the log holds no one's words.
RESOLUTIONS = {
    "newer-export": "the owner brought a newer export that extends the history",
    "steward-evidence": "the stewards checked other evidence of ownership",
    "no-owner": "nobody showed the history to be theirs: every side is rejected",
}
# Not a steward's choice: how a withdrawal resolves the cases of the member who withdrew (``on_withdrawal``).
WITHDRAWN = "withdrawn"
REFUSED_REASON = "a steward resolved its copy case: this history was found to be another member's"
HELD_ALONGSIDE = "held for the stewards: a later upload of another member shares this history"
HELD_WITHDRAWN = "held for the stewards: it shares the history of a member who withdrew"


def hold(
    session: Session, settings: CoopSettings, contribution: Contribution, matched: Iterable[str], *, now: datetime
) -> CopyCase:
    """Put ``contribution`` (being decided as held) and the contributions it ``matched`` in one open case."""
    others = [session.get_one(Contribution, cid) for cid in sorted(set(matched))]
    cases = sorted(
        {c.case_id for c in others if c.case_id is not None and _is_open(session, c.case_id)},
    )
    case = session.get_one(CopyCase, cases[0]) if cases else CopyCase(opened_utc=now)
    if not cases:
        session.add(case)
        session.flush()
    for merged in cases[1:]:
        for row in session.scalars(select(Contribution).where(Contribution.case_id == merged)):
            row.case_id = case.id
        session.delete(session.get_one(CopyCase, merged))
    contribution.case_id = case.id
    for other in others:
        other.case_id = case.id
        if other.status is ContributionStatus.ACCEPTED:
            _hold_accepted(session, settings, other, case, HELD_ALONGSIDE, "held:matched", now=now)
    session.flush()
    return case


def _hold_accepted(
    session: Session,
    settings: CoopSettings,
    row: Contribution,
    case: CopyCase,
    reason: str,
    code: str,
    *,
    now: datetime,
) -> None:
    """An accepted contribution leaves the pool (its files, so no sale opens them) and stops earning; its sealed
    plays stay as the case's evidence, and a release pools them again."""
    catalog.remove_contribution(session, pool_of(settings), row.id)
    report = report_of(session, row)
    held = dataclasses.replace(report, status=ContributionStatus.HELD, reasons=(reason,), codes=(code,))
    sealed_reports.store(session, settings, row, held, codes=held.codes)
    row.case_id, row.score = case.id, 0
    audit.record(session, audit.ContributionHeld(row.member_id, row.id, case.id), now=now)


def on_withdrawal(session: Session, settings: CoopSettings, member: Member, *, now: datetime) -> CopyCase | None:
    """Settle the copies of a withdrawing member's history, in the withdrawal's deciding transaction, before
    their shingles leave the index; the case now holding the others' copies, if any.

    * Their open cases are resolved as ``withdrawn``: their side is rejected by the withdrawal and its evidence
      (their sealed plays) goes with their files; the other sides stay held, in a new case for the stewards.
    * Other members' contributions that match their history (``matching.overlaps_of_member``, the same test as
      an upload's copy check) are altered copies of it, or the original it was copied from: accepted ones are
      held in that case too, out of the pool and of every sale, until a steward says whose history it is.
    """
    own = list(session.scalars(select(Contribution).where(Contribution.member_id == member.id)))
    open_ids = sorted({c.case_id for c in own if c.case_id is not None and _is_open(session, c.case_id)})
    waiting: list[Contribution] = []
    for case_id in open_ids:
        case = session.get_one(CopyCase, case_id)
        rows = list(session.scalars(select(Contribution).where(Contribution.case_id == case_id)))
        refused = tuple(sorted(r.id for r in rows if r.member_id == member.id))
        waiting += [r for r in rows if r.member_id != member.id and r.status is ContributionStatus.HELD]
        case.resolved_utc, case.resolution = now, WITHDRAWN
        event = audit.CopyCaseResolved(member.id, case.id, None, WITHDRAWN, (), refused)
        audit.record(session, event, now=now)
    copies_of = [o for o in matching.overlaps_of_member(session, member.id) if o.near_copy]
    matched = [session.get_one(Contribution, cid) for o in copies_of for cid in o.contribution_ids]
    accepted = [c for c in matched if c.status is ContributionStatus.ACCEPTED]
    if not waiting and not accepted:
        session.flush()
        return None
    case = CopyCase(opened_utc=now)
    session.add(case)
    session.flush()
    for row in waiting:
        row.case_id = case.id
    for row in accepted:
        _hold_accepted(session, settings, row, case, HELD_WITHDRAWN, "held:withdrawn", now=now)
    session.flush()
    return case


def _is_open(session: Session, case_id: str) -> bool:
    case = session.get(CopyCase, case_id)
    return case is not None and case.resolved_utc is None


@dataclass(frozen=True)
class HeldContribution:
    contribution_id: str
    member_id: str
    created_utc: datetime
    plays_read: int
    first_play_utc: datetime | None
    last_play_utc: datetime | None
    # Its plays reach later than any other member's in the case: what a newer export of the owner shows.
    reaches_further: bool
    share: float | None


@dataclass(frozen=True)
class CaseView:
    case_id: str
    opened_utc: datetime
    resolved_utc: datetime | None
    owner_member_id: str | None
    resolution: str | None
    contributions: tuple[HeldContribution, ...]


def open_cases(session: Session) -> list[CaseView]:
    """Cases waiting for a steward, oldest first, with what each side holds."""
    rows = session.scalars(select(CopyCase).where(CopyCase.resolved_utc.is_(None)).order_by(CopyCase.opened_utc))
    return [case_view(session, case) for case in rows]


def case_view(session: Session, case: CopyCase) -> CaseView:
    rows = list(
        session.scalars(select(Contribution).where(Contribution.case_id == case.id).order_by(Contribution.created_utc))
    )
    reports = {row.id: report_of(session, row) for row in rows}
    latest: dict[str, datetime] = {}
    for row in rows:
        last = reports[row.id].last_play_utc
        if last is not None and (row.member_id not in latest or last > latest[row.member_id]):
            latest[row.member_id] = last
    held = []
    for row in rows:
        report = reports[row.id]
        others = [t for m, t in latest.items() if m != row.member_id]
        further = report.last_play_utc is not None and bool(others) and report.last_play_utc > max(others)
        held.append(
            HeldContribution(
                row.id,
                row.member_id,
                row.created_utc,
                report.plays_read,
                report.first_play_utc,
                report.last_play_utc,
                further,
                report.copy_check.similarity if report.copy_check else None,
            )
        )
    return CaseView(case.id, case.opened_utc, case.resolved_utc, case.owner_member_id, case.resolution, tuple(held))


@dataclass(frozen=True)
class Resolved:
    case_id: str
    owner_member_id: str | None
    released: tuple[str, ...]
    refused: tuple[str, ...]


def resolve(
    session: Session,
    settings: CoopSettings,
    steward: Member,
    case_id: str,
    owner_member_id: str | None,
    resolution: str,
    *,
    now: datetime | None = None,
) -> Resolved:
    """Resolve an open case (see the module docstring), in the caller's transaction."""
    require(RESOLVE_CASE, steward)
    when = now or utcnow()
    if resolution not in RESOLUTIONS:
        raise InvalidInput(f"unknown resolution {resolution!r}; one of: {', '.join(RESOLUTIONS)}")
    if (resolution == "no-owner") != (owner_member_id is None):
        raise InvalidInput("name the owner, or resolve with 'no-owner' and name nobody")
    lock_cooperative(session)
    case = session.get(CopyCase, case_id, populate_existing=True)
    if case is None:
        raise NotFound("no such copy case")
    if case.resolved_utc is not None:
        raise InvalidInput("this copy case is resolved already")
    rows = list(
        session.scalars(
            select(Contribution)
            .where(Contribution.case_id == case.id, Contribution.status == ContributionStatus.HELD)
            .order_by(Contribution.created_utc, Contribution.id)
        )
    )
    # The owner's contributions are pooled oldest first (uploaded, then by the plays they reach), so a newer
    # export counts only what the older one lacked.
    rows.sort(key=lambda r: (r.created_utc, report_of(session, r).last_play_utc or r.created_utc))
    if owner_member_id is not None and not any(r.member_id == owner_member_id for r in rows):
        raise InvalidInput("the owner must be one of the members whose contributions the case holds")
    released, refused = [], []
    pooled: list[pa.Table] = []  # what this resolution pooled already (its files appear at commit)
    for row in rows:
        if row.member_id == owner_member_id:
            pooled.append(_release(session, settings, row, pooled, resolution, now=when))
            released.append(row.id)
        else:
            _refuse(session, settings, row, resolution, now=when)
            refused.append(row.id)
    case.resolved_utc, case.owner_member_id, case.resolution, case.resolved_by = (
        when,
        owner_member_id,
        resolution,
        steward.id,
    )
    session.flush()
    event = audit.CopyCaseResolved(steward.id, case.id, owner_member_id, resolution, tuple(released), tuple(refused))
    audit.record(session, event, now=when)
    return Resolved(case.id, owner_member_id, tuple(released), tuple(refused))


def _release(
    session: Session,
    settings: CoopSettings,
    row: Contribution,
    pooled: list[pa.Table],
    resolution: str,
    *,
    now: datetime,
) -> pa.Table:
    """Accept a held contribution of the owner: score its new plays against their pool now (and what was
    ``pooled`` before it in this transaction), and pool them; the plays it pooled."""
    member = session.get_one(Member, row.member_id)
    key = crypto.member_key(session, member, settings)
    if row.blob_path is None:
        raise InvalidInput("a held contribution lost its sealed plays")
    plays = pq.read_table(io.BytesIO(crypto.decrypt_blob(key, (settings.data_dir / row.blob_path).read_bytes())))
    rows = play_identity(plays)
    member_known = known.load(session, settings, member)
    own = pa.concat_tables([member_known.own_plays(), *pooled])
    scored = scoring.score_new(rows, own, copies.own_known(rows, own))
    scored = scoring.with_returns(scored, known.prior_raw(session, member.id), policy.current(session).scoring_weights)
    report = dataclasses.replace(
        report_of(session, row),
        status=ContributionStatus.ACCEPTED,
        reasons=(),
        codes=(f"released:{resolution}",),
        plays_added=scored.new_rows.num_rows,
        score=scored.score,
    )
    sealed_reports.store(session, settings, row, report, codes=report.codes)
    row.plays_added, row.score = report.plays_added, report.points
    session.flush()
    if scored.new_rows.num_rows:
        catalog.add(session, member_known.pool, member, row.id, scored.new_rows, key, now=now)
        evidence.learn(session, scored.new_rows)
    audit.record(session, audit.ContributionAccepted(member.id, row.id, report.plays_added, report.points), now=now)
    return scored.new_rows


def _refuse(session: Session, settings: CoopSettings, row: Contribution, resolution: str, *, now: datetime) -> None:
    """Reject a held contribution of someone other than the owner; its evidence goes."""
    if row.blob_path is not None:
        staged.delete_on_commit(session, settings.data_dir / row.blob_path)
    matching.forget(session, [row.id])
    report = dataclasses.replace(
        report_of(session, row),
        status=ContributionStatus.REJECTED,
        reasons=(REFUSED_REASON,),
        codes=(f"refused:{resolution}",),
        copy_check=None,
    )
    codes = sealed_reports.store(session, settings, row, report, codes=report.codes)
    row.blob_path, row.score = None, 0
    session.flush()
    audit.record(session, audit.ContributionRejected(row.member_id, row.id, codes), now=now)
