"""The copy index: which other histories hold an upload's content, asked of the database in the deciding
transaction.

Every accepted or held contribution leaves its sampled shingles (``fingerprint.sample``) in ``history_shingle``,
indexed by value. An upload is compared with every other member's history by looking its own sampled shingles up
there (a few indexed queries, however many members there are) and, for the members it shares any with, counting
their history's sampled shingles. Two shares follow, both ways round:

* the share of the upload found in the member's history: a copy, a subset, a converted or shifted copy;
* the share of the member's history found in the upload: a merge of several histories holds each of them.

Either share at or above ``NEAR_COPY`` (with at least ``MIN_SHARED`` sampled shingles in common, so a handful of
chance pairs never decides) makes the upload and the matched contributions a copy case. Real, distinct people
share at most about 2 % either way (measured on ``../shared/samples``); copies and their conversions keep most of
their pairs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import orjson
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from tutti.coop import audit
from tutti.coop.contributions import fingerprint
from tutti.coop.models import AuditEvent, HistoryShingle

NEAR_COPY = 0.3
MIN_SHARED = 5
_CHUNK = 2_000


@dataclass(frozen=True)
class Overlap:
    """What an upload shares with one other member's history (accepted and held contributions)."""

    member_id: str
    shared: int
    upload_share: float
    history_share: float
    contribution_ids: tuple[str, ...]

    @property
    def near_copy(self) -> bool:
        return self.shared >= MIN_SHARED and max(self.upload_share, self.history_share) >= NEAR_COPY


@dataclass(frozen=True)
class Looked:
    """A look-up of the index made before the deciding transaction: how long the log was when it began, and the
    index rows it found, as (member, contribution, shingle)."""

    seq: int
    rows: tuple[tuple[str, str, int], ...]


def look(session: Session, member_id: str, sampled: fingerprint.Shingles) -> Looked:
    """Look the upload's shingles up before the cooperative's lock is taken (the long part, on a large index);
    ``overlaps`` then catches up under the lock with what was indexed or dropped since. The log's length is read
    first, so whatever is indexed after it is in the catch-up, and whatever before, in the look-up."""
    seq = int(session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0))) or 0)
    return Looked(seq, tuple(_rows(session, member_id, fingerprint.to_signed(sampled))))


def overlaps(
    session: Session, member_id: str, sampled: fingerprint.Shingles, looked: Looked | None = None
) -> list[Overlap]:
    """Every other member whose history shares sampled shingles with the upload, most shared first; with
    ``looked``, from that look-up and what changed since: the contributions decided since (a decision indexes its
    shingles and logs itself in one transaction), less those no longer indexed (a case refused them, their member
    withdrew)."""
    values = fingerprint.to_signed(sampled)
    if looked is None:
        return _overlaps(session, values, _rows(session, member_id, values))
    since = _decided_since(session, looked.seq)
    rows = [*looked.rows, *(_rows(session, member_id, values, since) if since else [])]
    alive = _indexed(session, {contribution for _owner, contribution, _shingle in rows})
    return _overlaps(session, values, [row for row in rows if row[1] in alive])


def overlaps_of_member(session: Session, member_id: str) -> list[Overlap]:
    """Every other member whose history shares sampled shingles with ``member_id``'s whole indexed history (their
    accepted and held contributions), most shared first: the copies of it that others hold."""
    values = list(
        session.scalars(select(HistoryShingle.shingle).where(HistoryShingle.member_id == member_id).distinct())
    )
    return _overlaps(session, values, _rows(session, member_id, values)) if values else []


def _rows(
    session: Session, member_id: str, values: list[int], contributions: set[str] | None = None
) -> list[tuple[str, str, int]]:
    """Index rows of other members holding any of ``values`` (of ``contributions`` only, when given)."""
    found: list[tuple[str, str, int]] = []
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        query = select(HistoryShingle.member_id, HistoryShingle.contribution_id, HistoryShingle.shingle).where(
            HistoryShingle.shingle.in_(chunk), HistoryShingle.member_id != member_id
        )
        if contributions is not None:
            query = query.where(HistoryShingle.contribution_id.in_(sorted(contributions)))
        found += [(str(o), str(c), int(v)) for o, c, v in session.execute(query)]
    return found


def _decided_since(session: Session, seq: int) -> set[str]:
    """Contributions whose shingles were indexed after the log's entry ``seq`` (accepted or held since)."""
    kinds = (audit.ContributionAccepted.kind, audit.ContributionHeld.kind)
    payloads = session.scalars(select(AuditEvent.payload).where(AuditEvent.seq > seq, AuditEvent.kind.in_(kinds)))
    return {str(orjson.loads(payload)["contribution_id"]) for payload in payloads}


def _indexed(session: Session, contributions: set[str]) -> set[str]:
    ids, found = sorted(contributions), set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found |= set(
            session.scalars(
                select(HistoryShingle.contribution_id).where(HistoryShingle.contribution_id.in_(chunk)).distinct()
            )
        )
    return found


def _overlaps(session: Session, values: list[int], rows: list[tuple[str, str, int]]) -> list[Overlap]:
    hits: defaultdict[str, set[int]] = defaultdict(set)
    contributions: defaultdict[str, set[str]] = defaultdict(set)
    for owner, contribution_id, shingle in rows:
        hits[owner].add(shingle)
        contributions[owner].add(contribution_id)
    if not hits:
        return []
    sizes = {
        owner: int(size)
        for owner, size in session.execute(
            select(HistoryShingle.member_id, func.count(func.distinct(HistoryShingle.shingle)))
            .where(HistoryShingle.member_id.in_(list(hits)))
            .group_by(HistoryShingle.member_id)
        )
    }
    found = [
        Overlap(
            owner,
            len(shared),
            len(shared) / len(values),
            len(shared) / max(1, sizes.get(owner, 0)),
            tuple(sorted(contributions[owner])),
        )
        for owner, shared in hits.items()
    ]
    return sorted(found, key=lambda o: (-o.shared, o.member_id))


def index(session: Session, member_id: str, contribution_id: str, sampled: fingerprint.Shingles) -> None:
    """Add a contribution's sampled shingles to the index (in the deciding transaction)."""
    values = fingerprint.to_signed(sampled)
    for start in range(0, len(values), _CHUNK * 5):
        rows = [
            {"contribution_id": contribution_id, "member_id": member_id, "shingle": v}
            for v in values[start : start + _CHUNK * 5]
        ]
        session.execute(insert(HistoryShingle), rows)


def forget(session: Session, contribution_ids: list[str]) -> None:
    """Remove contributions from the index (rejected at a case's resolution, or their member withdrew)."""
    if contribution_ids:
        session.execute(delete(HistoryShingle).where(HistoryShingle.contribution_id.in_(contribution_ids)))
