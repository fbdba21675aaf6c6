"""What other members' plays show of each track, and whether an upload agrees with it.

Two facts about tracks hold for everyone who plays them, so an invented history contradicts what members' real
plays show:

* a track lasts as long for everyone: a *full play* (Spotify's ``trackdone``, or a recorded track duration) of
  one track lasts about the same in every member's history;
* a Spotify track URI names one track: the same URI under another artist and title is made up.

``learn`` adds an accepted upload's new plays to ``track_evidence`` (in the deciding transaction, under the
cooperative's lock), without any member id: per track, its length; per URI, the track it names (both as hashes).
Each key keeps the value most plays agree on and by how many votes (the majority vote of Boyer and Moore, kept
row by row: an agreeing play adds a vote, a disagreeing one takes one off, and at zero the other value takes
over), so no list of plays is kept and one member's odd plays do not move a value many agree on.

``check`` compares an upload with that evidence where it is settled (``MIN_VOTES``), as two checks of
``plausibility``: ``track_lengths`` (the share of the upload's full plays of known tracks lasting about another
length) and ``identifiers`` (the share of its plays with a known URI that name another track). Both are
critical: a history whose tracks last other lengths than everyone else's, or whose URIs name other tracks, was
not played. Calibrated on every real export in ``../shared/samples`` (``tests/coop/test_track_evidence.py``,
each export checked against all the others): no genuine export fails either; among real people's exports both
checks find a few plays to compare (their tastes overlap little), and disagreements stay far below the limits,
which allow for other versions of a track (a single and an album cut share a name), crossfade and previews.
Reports say what was measured, never the limits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import pyarrow as pa
from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from tutti.coop.contributions.plausibility import CALIBRATED, Check
from tutti.coop.models import TrackEvidence

LENGTH = "length"
URI = "uri"
# A value counts as evidence once this many more plays agree with it than not.
MIN_VOTES = 2
# Two full plays of one track agree when their lengths differ by at most this much (crossfade, rounding).
LENGTH_SLACK_MS = 15_000
LENGTH_SLACK_SHARE = 0.05
# Plays to compare before a check applies, and the share of them that may disagree.
MIN_LENGTHS = 20
MAX_OTHER_LENGTHS = 0.5
MIN_URIS = 10
MAX_OTHER_NAMES = 0.3
PENALTY = 60
_CHUNK = 1_000

_FACTS_SQL = """
WITH named AS (
    SELECT coalesce(artist_key, '') || chr(31) || track_key AS name, spotify_uri,
           CASE WHEN duration_ms > 0 THEN duration_ms
                WHEN reason_end = 'trackdone' AND ms_played > 0 THEN ms_played END AS length
    FROM rows WHERE track_key IS NOT NULL
)
SELECT 'length' AS kind, name AS key, CAST(median(length) AS BIGINT)::VARCHAR AS value, count(*) AS plays
FROM named WHERE length IS NOT NULL GROUP BY name
UNION ALL
SELECT 'uri', spotify_uri, mode(name), count(*) FROM named WHERE spotify_uri IS NOT NULL GROUP BY spotify_uri
"""


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class _Fact:
    """What one upload says of one key: the value (a length in ms, or a hashed name) and how many plays say it."""

    kind: str
    key: str
    value: str
    plays: int


def _facts(rows: pa.Table) -> list[_Fact]:
    """Per track its full plays' median length, per URI its most common name: hashed, counted in plays."""
    con = duckdb.connect()
    try:
        con.register(
            "rows", rows.select(["artist_key", "track_key", "spotify_uri", "duration_ms", "reason_end", "ms_played"])
        )
        found = con.execute(_FACTS_SQL).fetchall()
    finally:
        con.close()
    return [
        _Fact(kind, _hash(str(key)), str(value) if kind == LENGTH else _hash(str(value)), int(plays))
        for kind, key, value, plays in found
    ]


def _agree(kind: str, known: str, value: str) -> bool:
    if kind != LENGTH:
        return known == value
    a, b = int(known), int(value)
    return abs(a - b) <= max(LENGTH_SLACK_MS, LENGTH_SLACK_SHARE * max(a, b))


def _known(session: Session, facts: Iterable[_Fact]) -> dict[tuple[str, str], TrackEvidence]:
    wanted = [(f.kind, f.key) for f in facts]
    found: dict[tuple[str, str], TrackEvidence] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for row in session.scalars(
            select(TrackEvidence).where(tuple_(TrackEvidence.kind, TrackEvidence.key).in_(chunk))
        ):
            found[(row.kind, row.key)] = row
    return found


def learn(session: Session, new_rows: pa.Table) -> None:
    """Add an accepted upload's new plays (pool rows) to the evidence, in the deciding transaction."""
    facts = _facts(new_rows)
    known = _known(session, facts)
    for fact in facts:
        row = known.get((fact.kind, fact.key))
        if row is None:
            session.add(TrackEvidence(kind=fact.kind, key=fact.key, value=fact.value, votes=fact.plays))
            continue
        votes = row.votes + fact.plays if _agree(fact.kind, row.value, fact.value) else row.votes - fact.plays
        value = row.value if votes >= 0 else fact.value
        session.execute(
            update(TrackEvidence)
            .where(TrackEvidence.kind == fact.kind, TrackEvidence.key == fact.key)
            .values(value=value, votes=abs(votes))
            .execution_options(synchronize_session=False)
        )
    session.flush()


def check(session: Session, rows: pa.Table) -> tuple[Check, Check]:
    """The upload's plays (pool rows) against the evidence: ``track_lengths`` and ``identifiers``."""
    facts = _facts(rows)
    known = {k: r for k, r in _known(session, facts).items() if r.votes >= MIN_VOTES}
    compared = {LENGTH: 0, URI: 0}
    other = {LENGTH: 0, URI: 0}
    for fact in facts:
        row = known.get((fact.kind, fact.key))
        if row is not None:
            compared[fact.kind] += fact.plays
            other[fact.kind] += 0 if _agree(fact.kind, row.value, fact.value) else fact.plays
    return (
        _verdict(
            "track_lengths",
            compared[LENGTH],
            other[LENGTH],
            MIN_LENGTHS,
            MAX_OTHER_LENGTHS,
            "{other} of {basis} full plays of tracks other members played last another length than theirs",
        ),
        _verdict(
            "identifiers",
            compared[URI],
            other[URI],
            MIN_URIS,
            MAX_OTHER_NAMES,
            "{other} of {basis} plays carry a track URI that names another track in other members' plays",
        ),
    )


def _verdict(name: str, basis: int, other: int, minimum: int, limit: float, what: str) -> Check:
    share = other / basis if basis else None
    if share is None or basis < minimum:
        reason = f"not applicable: {basis} plays to compare with other members' plays, too few to judge"
        return Check(name, share, CALIBRATED, False, True, True, PENALTY, reason)
    ok = share <= limit
    said = what.format(other=other, basis=basis)
    reason = f"{said}: {'like' if ok else 'unlike'} real listening histories"
    return Check(name, share, CALIBRATED, True, ok, True, PENALTY, reason)
