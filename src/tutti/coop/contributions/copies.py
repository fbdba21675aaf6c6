"""Fingerprinting an upload and checking it for copies (``fingerprint`` holds the method, ``matching`` the index).

``fingerprint_upload`` runs before the decision, holding no connection: the upload's pool rows, their shingles,
and whether it re-uploads the member's own pooled history under another clock (``own_known``): when at least
``SELF_COPY`` of its plays that are new by identity (time and names) keep the company they had in the member's
history, those plays are the same listening moved in time, and none of them is new; a history re-uploaded under
another clock earns nothing twice. A genuine newer export stays well below: of the 7,388 new plays of the real
refresh in ``../shared/samples`` (fedecalendino), 30 % have familiar company (the listener's habits), against
all of them for the same history shifted. ``check`` runs in the deciding transaction, under
the cooperative's lock, against the index as it is then: an upload decided a moment earlier is in it, so two
uploads of one history are never both taken for originals.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from tutti.coop.contributions import fingerprint, matching
from tutti.coop.contributions.checking import Checked
from tutti.coop.contributions.report import CopyCheck
from tutti.coop.pool.contract import play_identity

SELF_COPY = 0.6
NO_MATCH = "no other member's history holds a notable share of it, nor does it hold one"


@dataclass(frozen=True)
class Fingerprinted:
    """The upload's pool rows, its sampled shingles, and per row whether the member's own history holds it."""

    rows: pa.Table
    sampled: fingerprint.Shingles
    own_known: pa.Array


def fingerprint_upload(checked: Checked, own_plays: pa.Table) -> Fingerprinted:
    rows = play_identity(checked.upload.table)
    return Fingerprinted(rows, fingerprint.sample(fingerprint.shingles(rows)), own_known(rows, own_plays))


def own_known(rows: pa.Table, own_plays: pa.Table) -> pa.Array:
    """Per row: already in the member's pooled history by content, though not by identity (see the docstring)."""
    new_by_id = pc.invert(pc.is_in(rows.column("play_id"), value_set=own_plays.column("play_id")))
    paired, known = fingerprint.known_plays(rows, fingerprint.shingles(own_plays))
    candidates = pc.sum(pc.and_(paired, new_by_id)).as_py() or 0
    familiar = pc.sum(pc.and_(known, new_by_id)).as_py() or 0
    if candidates and familiar / candidates >= SELF_COPY:
        return new_by_id
    return pa.array([False] * rows.num_rows, pa.bool_())


def look(session: Session, member_id: str, printed: Fingerprinted) -> matching.Looked:
    """The index looked up before the decision (``matching.look``), outside the cooperative's lock."""
    return matching.look(session, member_id, printed.sampled)


def check(
    session: Session, member_id: str, printed: Fingerprinted, looked: matching.Looked | None = None
) -> tuple[CopyCheck, tuple[str, ...]]:
    """The copy check against every other member's history as it is now (from ``looked`` and what changed since,
    when given), and the contributions it matched (when a copy)."""
    found = matching.overlaps(session, member_id, printed.sampled, looked)
    if not found:
        return CopyCheck(0.0, "containment", False, 0, None, NO_MATCH), ()
    near = [o for o in found if o.near_copy]
    closest = near[0] if near else max(found, key=lambda o: max(o.upload_share, o.history_share))
    share = round(max(closest.upload_share, closest.history_share), 4)
    if not near:
        return CopyCheck(
            share, "containment", False, len(found), None, NO_MATCH, closest.upload_share, closest.history_share
        ), ()
    if closest.upload_share >= closest.history_share:
        reason = f"{closest.upload_share:.0%} of its content is found in another member's history"
    else:
        reason = f"it holds {closest.history_share:.0%} of another member's history"
    matched = tuple(sorted({cid for o in near for cid in o.contribution_ids}))
    copy = CopyCheck(
        share, "containment", True, len(found), closest.member_id, reason, closest.upload_share, closest.history_share
    )
    return copy, matched
