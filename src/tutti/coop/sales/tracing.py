"""Tracing a copy of a release found elsewhere to the sale and buyer it was delivered to (``identify_leak`` over
every release the cooperative made, with the keys and members it keeps for them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop.models import Member, Release, ReleaseMember
from tutti.coop.sales.release import KnownRelease, content_digest, identify_leak
from tutti.coop.sales.releases import READY, release_folder, release_key
from tutti.coop.sales.sale import sale_of
from tutti.coop.settings import CoopSettings


@dataclass(frozen=True)
class Traced:
    id: str
    proposal_id: str
    buyer_id: str


def trace(session: Session, settings: CoopSettings, path: Path) -> Traced | None:
    """The release ``path`` is a copy of (possibly stripped of its metadata, reordered or cut), or None."""
    known = []
    for release in session.scalars(select(Release).where(Release.status == READY)):
        folder = release_folder(settings, release)
        digests = frozenset(content_digest(pq.read_table(f)) for f in sorted(folder.glob("*.parquet")))
        members = frozenset(
            session.scalars(
                select(Member.pseudonym)
                .join(ReleaseMember, ReleaseMember.member_id == Member.id)
                .where(ReleaseMember.release_id == release.id)
            )
        )
        known.append(KnownRelease(release.id, release_key(settings, release), digests, members))
    found = identify_leak(path, known)
    if found is None:
        return None
    release = session.get_one(Release, found)
    _proposal, terms = sale_of(session, release.proposal_id)
    return Traced(release.id, release.proposal_id, terms.buyer_id)
