"""Contributing an export: read it, check it, fingerprint it, score it, pool what is new.

``contribute`` runs inside the caller's transaction (the caller commits); its files (the pool file, the sealed
upload) follow that transaction too: they appear when it commits and never if it rolls back. An upload is
*accepted* when it can be read, holds plays, its files agree with each other, it is plausible and it is not a
near-copy of another member's history; otherwise it is *rejected* with the exact reasons, and nothing of it
enters the pool. Either way a ``Contribution`` row and an audit event record the outcome, and the member's report
says what was measured.

What is kept of an upload, sealed with the member's key: the plays as read (``PLAY_SCHEMA`` as Parquet, file
names inside the upload, every recorded field), not the uploaded bytes. Export files carry IP addresses,
user agents and usernames, and their folders carry personal files (payments, addresses), none of which the
cooperative may store. Rejected near-copies keep theirs too, as evidence for the stewards.
"""

from __future__ import annotations

import dataclasses
import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop import audit, crypto, staged
from tutti.coop.actions import CONTRIBUTE, require
from tutti.coop.contributions import fingerprint, plausibility, scoring
from tutti.coop.contributions.consistency import Consistency, consistency
from tutti.coop.contributions.reading import FileReport, read_upload
from tutti.coop.errors import KeyDestroyed, NotFound
from tutti.coop.models import Contribution, ContributionStatus, Member, Status, new_id, utcnow
from tutti.coop.pool import catalog
from tutti.coop.pool.contract import play_identity
from tutti.coop.pool.files import MemberShare, pool_of
from tutti.coop.settings import CoopSettings

CONTRIBUTIONS_DIR = "contributions"


@dataclass(frozen=True)
class CopyCheck:
    """How close the upload is to the nearest other member's history; ``matched_member_id`` is for stewards."""

    similarity: float
    method: str
    near_copy: bool
    compared_members: int
    matched_member_id: str | None
    reason: str


@dataclass
class ContributionReport:
    contribution_id: str
    status: ContributionStatus
    reasons: list[str] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    problems: int = 0
    plays_read: int = 0
    plays_distinct: int = 0
    plays_added: int = 0
    consistency: Consistency | None = None
    plausibility: plausibility.Plausibility | None = None
    copy: CopyCheck | None = None
    score: scoring.Score | None = None

    @property
    def accepted(self) -> bool:
        return self.status is ContributionStatus.ACCEPTED

    @property
    def points(self) -> int:
        return self.score.total if self.score else 0

    def to_json(self, *, for_member: bool = False) -> dict[str, Any]:
        """Plain JSON data; ``for_member`` leaves out whose history a near-copy matched."""
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        data["points"] = self.points
        if for_member and data["copy"] is not None:
            data["copy"].pop("matched_member_id")
        return data


def blob_path(settings: CoopSettings, member: Member, contribution_id: str) -> Path:
    return settings.data_dir / CONTRIBUTIONS_DIR / member.id / f"{contribution_id}.blob"


def _as_read(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


def _copy_check(
    session: Session, settings: CoopSettings, member: Member, rows: pa.Table, print_: fingerprint.Fingerprint
) -> CopyCheck:
    others = session.execute(
        select(Contribution.member_id, Contribution.fingerprint)
        .join(Member, Member.id == Contribution.member_id)
        .where(
            Contribution.status == ContributionStatus.ACCEPTED,
            Contribution.member_id != member.id,
            Contribution.fingerprint.is_not(None),
            Member.status != Status.WITHDRAWN,
        )
    ).all()
    owners, matrix = fingerprint.member_matrix([(m, bytes(f)) for m, f in others if f is not None])
    match = fingerprint.best_match(print_.signature, owners, matrix)
    if match is None:
        return CopyCheck(0.0, "minhash", False, 0, None, "no other member's history to compare with")
    similarity, method = match.similarity, "minhash"
    if print_.size < fingerprint.SMALL_UPLOAD and similarity >= fingerprint.CANDIDATE:
        # Few plays make the estimate coarse: measure the overlap with the candidate's plays exactly.
        other = session.get(Member, match.owner)
        try:
            key = crypto.member_key(session, other, settings) if other is not None else None
        except KeyDestroyed:
            key = None
        if other is not None and key is not None:
            theirs = pool_of(settings).member_table(other.pseudonym, key, list(fingerprint.SHINGLE_COLUMNS))
            similarity, method = fingerprint.exact_similarity(rows, theirs), "exact"
    near = similarity >= fingerprint.NEAR_COPY
    reason = (
        f"{similarity:.0%} of its plays are shared with another member's history ({method}; "
        f"a near-copy from {fingerprint.NEAR_COPY:.0%})"
    )
    return CopyCheck(round(similarity, 4), method, near, len(owners), match.owner if near else None, reason)


def _save_upload(upload: Sequence[Path] | bytes, filename: str | None, folder: Path) -> list[Path]:
    if not isinstance(upload, bytes):
        return [Path(p) for p in upload]
    path = folder / (Path(filename or "upload").name or "upload")
    path.write_bytes(upload)
    return [path]


def contribute(
    session: Session,
    settings: CoopSettings,
    member: Member,
    upload: Sequence[Path] | bytes,
    filename: str | None = None,
    *,
    now: datetime | None = None,
) -> ContributionReport:
    """Validate one upload (paths, or the bytes of one file named ``filename``) and pool its new plays."""
    require(CONTRIBUTE, member)
    when = now or utcnow()
    report = ContributionReport(new_id(), ContributionStatus.REJECTED)
    with tempfile.TemporaryDirectory(prefix="tutti-upload-") as scratch:
        paths = _save_upload(upload, filename, Path(scratch))
        read = read_upload(paths, now=when, roots=[Path(scratch)])
    report.files, report.problems, report.plays_read = read.files, read.problems, read.table.num_rows
    key = crypto.member_key(session, member, settings)
    rows = play_identity(read.table)
    report.plays_distinct = rows.num_rows
    print_ = fingerprint.fingerprint(rows)
    if read.error is not None:
        report.reasons.append(f"the upload cannot be read: {read.error}")
    elif read.table.num_rows == 0:
        report.reasons.append("the upload holds no plays Tutti can read")
    else:
        report.consistency = consistency(read.table)
        report.plausibility = plausibility.check(read.table, implausible_records=read.implausible)
        report.copy = _copy_check(session, settings, member, rows, print_)
        if not report.consistency.passed:
            report.reasons.append(f"files disagree: {report.consistency.reason}")
        report.reasons += [f"implausible: {r}" for r in report.plausibility.reasons]
        if not report.plausibility.passed:
            report.reasons.append(
                f"plausibility score {report.plausibility.score} (needs {plausibility.ACCEPT_SCORE}, "
                "and no failed critical check)"
            )
        if report.copy.near_copy:
            report.reasons.append(f"near-copy, flagged for the stewards: {report.copy.reason}")
    accepted = (
        read.error is None
        and read.table.num_rows > 0
        and report.consistency is not None
        and report.consistency.passed
        and report.plausibility is not None
        and report.plausibility.passed
        and report.copy is not None
        and not report.copy.near_copy
    )
    pool = pool_of(settings)
    new_rows = rows.slice(0, 0)
    if accepted:
        report.status = ContributionStatus.ACCEPTED
        # Only the reasons of a rejection are reasons; an accepted upload keeps its notes in the checks.
        report.reasons = []
        existing = pool.member_table(member.pseudonym, key)
        new_rows = rows.filter(pc.invert(pc.is_in(rows.column("play_id"), value_set=existing.column("play_id"))))
        report.plays_added = new_rows.num_rows
        report.score = scoring.score(new_rows, existing)
    keep_blob = accepted or (report.copy is not None and report.copy.near_copy)
    blob = blob_path(settings, member, report.contribution_id) if keep_blob else None
    if blob is not None:
        sealed = crypto.encrypt_blob(key, _as_read(read.table))
        staged.write_on_commit(session, blob, lambda to: to.write_bytes(sealed))
    session.add(
        Contribution(
            id=report.contribution_id,
            member_id=member.id,
            created_utc=when,
            status=report.status,
            reasons=list(report.reasons),
            report=report.to_json(),
            blob_path=str(blob.relative_to(settings.data_dir)) if blob is not None else None,
            plays_added=report.plays_added,
            score=report.points,
            fingerprint=print_.to_bytes() if read.table.num_rows else None,
            export_label=", ".join(sorted({f.format for f in read.files if f.format and f.plays})) or None,
        )
    )
    session.flush()
    if accepted:
        audit.record(
            session,
            audit.ContributionAccepted(member.id, report.contribution_id, report.plays_added, report.points),
            now=when,
        )
        if new_rows.num_rows:
            catalog.add(session, pool, member, report.contribution_id, new_rows, key, now=when)
    else:
        audit.record(
            session, audit.ContributionRejected(member.id, report.contribution_id, tuple(report.reasons)), now=when
        )
        if report.copy is not None and report.copy.near_copy:
            flagged = audit.ContributionFlagged(member.id, report.contribution_id, round(report.copy.similarity, 2))
            audit.record(session, flagged, now=when)
    return report


def member_contributions(session: Session, member: Member) -> list[Contribution]:
    """The member's own contributions, newest first."""
    return list(
        session.scalars(
            select(Contribution)
            .where(Contribution.member_id == member.id)
            .order_by(Contribution.created_utc.desc(), Contribution.id)
        )
    )


def contribution_of(session: Session, member: Member, contribution_id: str) -> Contribution:
    """One of the member's own contributions; NotFound for anyone else's, as for one that does not exist."""
    row = session.get(Contribution, contribution_id)
    if row is None or row.member_id != member.id:
        raise NotFound("no such contribution")
    return row


def pool_share(session: Session, settings: CoopSettings, member: Member) -> MemberShare:
    """What the pool holds of the member's plays; their key is only fetched when there is something to open."""
    counts = catalog.member_counts(session, member)
    if not counts.plays:
        return MemberShare(0, counts.files, {}, None, None)
    return pool_of(settings).member_share(member.pseudonym, crypto.member_key(session, member, settings), counts)


def flagged_for_stewards(session: Session) -> list[Contribution]:
    """Rejected near-copies, newest first: each names (in its report) the member whose history it matched."""
    rows = session.scalars(
        select(Contribution)
        .where(Contribution.status == ContributionStatus.REJECTED)
        .order_by(Contribution.created_utc.desc())
    )
    return [c for c in rows if (c.report.get("copy") or {}).get("near_copy")]
