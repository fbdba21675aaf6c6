"""Fingerprinting an upload: its plays as pool rows (one per distinct play), their MinHash fingerprint, and how
close they come to another member's history (``fingerprint`` holds the method; this stage applies it).

An upload sharing at least ``fingerprint.NEAR_COPY`` of its plays with another member's history is a near-copy.
Small uploads, where the estimate is coarse, are measured exactly against the closest candidate's pooled plays.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from tutti.coop.contributions import fingerprint
from tutti.coop.contributions.checking import Checked
from tutti.coop.contributions.known import Known
from tutti.coop.contributions.report import CopyCheck
from tutti.coop.pool.contract import play_identity


@dataclass(frozen=True)
class Fingerprinted:
    """The upload's pool rows, their fingerprint, and the copy check (None when the upload was not usable)."""

    rows: pa.Table
    fingerprint: fingerprint.Fingerprint
    copy_check: CopyCheck | None

    @property
    def near_copy(self) -> bool:
        return self.copy_check is not None and self.copy_check.near_copy


def fingerprint_upload(checked: Checked, known: Known) -> Fingerprinted:
    rows = play_identity(checked.upload.table)
    print_ = fingerprint.fingerprint(rows)
    return Fingerprinted(rows, print_, compare(rows, print_, known) if checked.usable else None)


def compare(rows: pa.Table, print_: fingerprint.Fingerprint, known: Known) -> CopyCheck:
    """The copy check of an upload (``rows``, ``print_``) against every other member ``known``."""
    owners, matrix = fingerprint.member_matrix([(p.member_id, p.fingerprint) for p in known.others])
    match = fingerprint.best_match(print_.signature, owners, matrix)
    if match is None:
        return CopyCheck(0.0, "minhash", False, 0, None, "no other member's history to compare with")
    similarity, method = match.similarity, "minhash"
    if print_.size < fingerprint.SMALL_UPLOAD and similarity >= fingerprint.CANDIDATE:
        # Few plays make the estimate coarse: measure the overlap with the candidate's plays exactly.
        key = known.key_of(match.owner)
        pseudonym = next(p.pseudonym for p in known.others if p.member_id == match.owner)
        if key is not None:
            theirs = known.pool.member_table(pseudonym, key, list(fingerprint.SHINGLE_COLUMNS))
            similarity, method = fingerprint.exact_similarity(rows, theirs), "exact"
    near = similarity >= fingerprint.NEAR_COPY
    reason = (
        f"{similarity:.0%} of its plays are shared with another member's history ({method}; "
        f"a near-copy from {fingerprint.NEAR_COPY:.0%})"
    )
    return CopyCheck(round(similarity, 4), method, near, len(owners), match.owner if near else None, reason)
