"""Content fingerprints of contributions: is this upload a copy of another member's history?

A history is the set of its *shingles*: one per play, the minute the play started (UTC, rounded down) joined
with the play's name keys (``tutti.names``: artist key and the track key's base, as the local store matches
copies, so case, accents, invisible characters and decorations change nothing). Two people almost never play
the same track in the same minute more than a handful of times, while a copied export shares nearly every
shingle with its original.

The fingerprint is a MinHash signature of that set: ``PERMUTATIONS`` 64-bit values, the minimum of each of as
many hash functions over the shingles. The share of equal positions in two signatures estimates the Jaccard
similarity of the two sets (standard error at most 0.045). A member's whole history has the element-wise
minimum of their contributions' signatures as its signature, so comparing an upload with every other member is
one vectorised comparison against a matrix with a row per member.

An upload whose similarity to another member's history is at least ``NEAR_COPY`` (0.5: at least two thirds of
the plays of the smaller of two equally large histories are the same plays) is a near-copy. For small uploads,
where the estimate is coarse, ``exact_similarity`` recomputes the Jaccard similarity from the plays themselves.
Only the signature is stored, never the shingles.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tutti.names import track_base_sql

PERMUTATIONS = 128
SHINGLE_COLUMNS = ("start_utc", "end_utc", "artist_key", "track_key")
NEAR_COPY = 0.5
# Below this many shingles a borderline estimate is checked against the candidate's plays.
SMALL_UPLOAD = 2_000
# Candidates this similar by estimate get the exact check when the upload is small.
CANDIDATE = 0.3
_CHUNK = 8_192
_EMPTY = np.iinfo(np.uint64).max

Signature = npt.NDArray[np.uint64]


def _params(label: str) -> npt.NDArray[np.uint64]:
    # Fixed forever: stored signatures are only comparable if the hash functions never change.
    values = [
        int.from_bytes(hashlib.blake2b(f"tutti-minhash-{label}-{i}".encode(), digest_size=8).digest(), "little")
        for i in range(PERMUTATIONS)
    ]
    return np.array(values, dtype=np.uint64)


# h_i(x) = a_i * x + b_i mod 2^64 with odd a_i: a bijection of 64-bit values per i, well mixed in the high
# bits, which decide the minimum.
_A = _params("a") | np.uint64(1)
_B = _params("b")

_SHINGLES_SQL = f"""
SELECT DISTINCT md5_number_lower(
    strftime(date_trunc('minute', coalesce(start_utc, end_utc)), '%Y-%m-%dT%H:%M') || chr(31)
    || coalesce(artist_key, '') || chr(31) || {track_base_sql("track_key")}) AS shingle
FROM plays
WHERE coalesce(start_utc, end_utc) IS NOT NULL AND track_key IS NOT NULL
ORDER BY shingle
"""


def shingles(table: pa.Table) -> npt.NDArray[np.uint64]:
    """The distinct 64-bit shingle hashes of a table of pool rows (any schema with times and name keys), ascending.

    The order is part of the contract: the same plays give the same array, whatever order they came in (DuckDB's
    DISTINCT alone returns its groups in no fixed order).
    """
    con = duckdb.connect()
    try:
        con.register("plays", table.select(list(SHINGLE_COLUMNS)))
        column = con.sql(_SHINGLES_SQL).to_arrow_table().column("shingle")
    finally:
        con.close()
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.uint64)


def signature(hashes: npt.NDArray[np.uint64]) -> Signature:
    """The MinHash signature of a set of shingle hashes; an empty set has the all-maximum signature."""
    result = np.full(PERMUTATIONS, _EMPTY, dtype=np.uint64)
    for start in range(0, len(hashes), _CHUNK):
        chunk = hashes[start : start + _CHUNK]
        # Wrapping uint64 arithmetic is the modulus; numpy does not warn for arrays.
        values = _A[:, None] * chunk[None, :] + _B[:, None]
        np.minimum(result, values.min(axis=1), out=result)
    return result


@dataclass(frozen=True)
class Fingerprint:
    """A signature and the size of the set it summarises (kept for reports and the small-upload rule)."""

    signature: Signature
    size: int

    def to_bytes(self) -> bytes:
        return np.uint64(self.size).tobytes() + self.signature.astype("<u8").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        values = np.frombuffer(data, dtype="<u8").astype(np.uint64)
        if len(values) != PERMUTATIONS + 1:
            raise ValueError(f"a fingerprint holds {PERMUTATIONS + 1} 64-bit values, not {len(values)}")
        return cls(values[1:].copy(), int(values[0]))


def fingerprint(table: pa.Table) -> Fingerprint:
    hashes = shingles(table)
    return Fingerprint(signature(hashes), len(hashes))


def similarity(a: Signature | Fingerprint, b: Signature | Fingerprint) -> float:
    """Estimated Jaccard similarity of the two shingle sets (0 when either is empty)."""
    sa = a.signature if isinstance(a, Fingerprint) else a
    sb = b.signature if isinstance(b, Fingerprint) else b
    if (sa == _EMPTY).all() or (sb == _EMPTY).all():
        return 0.0
    return float(np.mean(sa == sb))


def union(signatures: npt.NDArray[np.uint64]) -> Signature:
    """The signature of the union of several sets: their element-wise minimum (rows are signatures)."""
    return np.asarray(signatures.min(axis=0), dtype=np.uint64)


def similarities(sig: Signature, matrix: npt.NDArray[np.uint64]) -> npt.NDArray[np.float64]:
    """Estimated similarity of ``sig`` to every row of ``matrix`` (n x PERMUTATIONS), in one pass."""
    if len(matrix) == 0:
        return np.zeros(0)
    result = np.asarray((matrix == sig[None, :]).mean(axis=1), dtype=np.float64)
    if (sig == _EMPTY).all():
        result[:] = 0.0
    return result


def exact_similarity(a: pa.Table, b: pa.Table) -> float:
    """The exact Jaccard similarity of two tables' shingle sets."""
    sa, sb = shingles(a), shingles(b)
    union_size = len(np.union1d(sa, sb))
    return len(np.intersect1d(sa, sb)) / union_size if union_size else 0.0


@dataclass(frozen=True)
class Match:
    owner: str
    similarity: float


def member_matrix(rows: list[tuple[str, bytes]]) -> tuple[list[str], npt.NDArray[np.uint64]]:
    """One signature per owner from (owner, fingerprint bytes) rows: the union of the owner's contributions."""
    if not rows:
        return [], np.zeros((0, PERMUTATIONS), dtype=np.uint64)
    ordered = sorted(rows, key=lambda r: r[0])
    owners = [r[0] for r in ordered]
    matrix = np.frombuffer(b"".join(r[1] for r in ordered), dtype="<u8").reshape(len(ordered), PERMUTATIONS + 1)
    names = np.array(owners)
    starts = np.flatnonzero(np.concatenate([[True], names[1:] != names[:-1]]))
    reduced = np.minimum.reduceat(matrix[:, 1:].astype(np.uint64), starts, axis=0)
    return [owners[i] for i in starts], reduced


def best_match(sig: Signature, owners: list[str], matrix: npt.NDArray[np.uint64]) -> Match | None:
    """The owner whose history is most similar to ``sig``, or None when there is nobody to compare with."""
    if not owners:
        return None
    scores = similarities(sig, matrix)
    best = int(np.argmax(scores))
    return Match(owners[best], float(scores[best]))
