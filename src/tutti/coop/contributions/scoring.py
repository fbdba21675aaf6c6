"""Points for a contribution: what it adds to the member's history in the pool, never what was there before.

Four parts, each an integer the member sees with the values behind it:

* **volume**: one point per ``PLAYS_PER_POINT`` new plays (plays already pooled for the member add nothing).
* **span**: how far the member's history reaches (days from first to last play, shown), scored as one point per
  calendar week with plays that the member's history did not have yet; counting weeks rather than days between
  the extremes keeps a single stray play from years ago from being worth years.
* **diversity**: one point per ``ARTISTS_PER_POINT`` artists and per ``TRACKS_PER_POINT`` tracks new to the
  member's history, plus ``ENTROPY_POINTS`` per bit by which the entropy of their artist distribution grows
  (a history spread over many artists says more than one that repeats a few).
* **richness**: volume points times the share of recorded detail in the new plays: the average, over five
  fields, of the share of new plays that carry it (time played, start and end reasons, a known skip flag, a
  known platform, a track identifier such as a Spotify URI, MusicBrainz id or ISRC). A Spotify extended
  history roughly doubles its volume points; a scrobble file, which records none of these, adds little.

**Weights**: the members may weigh the four parts differently, by a passed policy change of ``scoring_weights``
(``governance.policy``): a percentage per part (``PARTS``), 100 for a part the policy does not name, 0 to 1,000.
A part's weighted points are its points times its weight, divided by 100 and rounded down, and its explanation says
so. The weights in force when a contribution is decided are the ones it gets; points already earned stand (what was
decided under earlier rules is not re-decided).

A refresh (a newer export of the same person) is scored by the same rules: before and after differ only by
its new plays, so only those count. Plays the member's history already holds under another clock (the same
listening shifted in time) are not new either (``fingerprint.known_plays``).

**Diminishing returns**: the four parts add up to the contribution's *raw* points; what a member earns is a
concave, bounded function of their raw points over all their accepted contributions::

    earned(R) = MEMBER_CAP * R / (R + MEMBER_CAP)

so the first points count almost fully (a member with 1,000 raw points earns 909), each further point less, and
no member earns ``MEMBER_CAP`` however many plays they bring or invent. A contribution earns
``earned(before + raw) - earned(before)``; the report shows the difference as the *diminishing returns* part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from tutti.coop.errors import InvalidInput

PLAYS_PER_POINT = 100
ARTISTS_PER_POINT = 2
TRACKS_PER_POINT = 10
ENTROPY_POINTS = 10
MEMBER_CAP = 10_000
PARTS = ("volume", "span", "diversity", "richness")
FULL_WEIGHT = 100
MAX_WEIGHT = 1000
RICHNESS_FIELDS = ("time played", "reasons", "skip flag", "platform", "track identifier")
_COLUMNS = [
    "play_id",
    "start_utc",
    "end_utc",
    "artist",
    "track",
    "ms_played",
    "reason_start",
    "reason_end",
    "skipped",
    "platform",
    "spotify_uri",
    "recording_mbid",
    "isrc",
]


@dataclass(frozen=True)
class ScoreItem:
    name: str
    points: int
    explanation: str


@dataclass(frozen=True)
class Score:
    items: tuple[ScoreItem, ...]

    @property
    def total(self) -> int:
        return sum(i.points for i in self.items)

    @property
    def raw(self) -> int:
        """The points before diminishing returns."""
        return sum(i.points for i in self.items if i.name != DIMINISHING)


DIMINISHING = "diminishing returns"


def earned(raw: int) -> int:
    """What a member with ``raw`` points over all their contributions earns (see the module docstring)."""
    return MEMBER_CAP * raw // (raw + MEMBER_CAP) if raw > 0 else 0


@dataclass(frozen=True)
class _Profile:
    plays: int
    span_days: float
    weeks: int
    artists: int
    tracks: int
    entropy_bits: float


_PROFILE_SQL = """
WITH artists AS (SELECT lower(artist) AS a, count(*) AS n FROM plays WHERE artist IS NOT NULL GROUP BY a),
total AS (SELECT sum(n) AS n FROM artists)
SELECT (SELECT count(*) FROM plays),
       coalesce((SELECT (epoch(max(coalesce(start_utc, end_utc))) - epoch(min(coalesce(start_utc, end_utc)))) / 86400
                 FROM plays), 0),
       (SELECT count(DISTINCT date_trunc('week', coalesce(start_utc, end_utc))) FROM plays),
       (SELECT count(*) FROM artists),
       (SELECT count(DISTINCT (lower(artist), lower(track))) FROM plays WHERE track IS NOT NULL),
       coalesce((SELECT -sum(a.n / t.n * log2(a.n / t.n)) FROM artists a, total t), 0)
"""

_RICHNESS_SQL = """
SELECT avg((ms_played IS NOT NULL)::INT),
       avg((reason_start IS NOT NULL AND reason_end IS NOT NULL)::INT),
       avg((skipped IS NOT NULL)::INT),
       avg((platform <> 'unknown')::INT),
       avg((coalesce(spotify_uri, recording_mbid, isrc) IS NOT NULL)::INT)
FROM plays
"""


def _profile(con: duckdb.DuckDBPyConnection, table: pa.Table) -> _Profile:
    con.register("plays", table)
    try:
        row = con.execute(_PROFILE_SQL).fetchall()[0]
    finally:
        con.unregister("plays")
    return _Profile(int(row[0]), float(row[1]), int(row[2]), int(row[3]), int(row[4]), float(row[5]))


@dataclass(frozen=True)
class Scored:
    """The plays of an upload new to the member's pooled history, and what they are worth."""

    new_rows: pa.Table
    score: Score


def score_new(rows: pa.Table, existing: pa.Table, known: pa.Array | None = None) -> Scored:
    """Score an upload's pool rows against the member's pooled plays: only plays not there yet count, by id or
    (``known``, per row) by content. Raw points: ``with_returns`` applies the member's diminishing returns."""
    new_mask = pc.invert(pc.is_in(rows.column("play_id"), value_set=existing.column("play_id")))
    if known is not None:
        new_mask = pc.and_(new_mask, pc.invert(known))
    new = rows.filter(new_mask)
    return Scored(new, score(new, existing))


def score(new: pa.Table, existing: pa.Table) -> Score:
    """Raw points for adding ``new`` plays to a member whose pooled plays are ``existing`` (both pool rows)."""
    new, existing = new.select(_COLUMNS), existing.select(_COLUMNS)
    con = duckdb.connect()
    try:
        before = _profile(con, existing)
        after = _profile(con, pa.concat_tables([existing, new]))
        con.register("plays", new)
        shares = con.execute(_RICHNESS_SQL).fetchall()[0] if new.num_rows else None
    finally:
        con.close()
    plays = new.num_rows
    volume = plays // PLAYS_PER_POINT
    artist_gain, track_gain = after.artists - before.artists, after.tracks - before.tracks
    entropy_gain = max(0.0, after.entropy_bits - before.entropy_bits)
    diversity = artist_gain // ARTISTS_PER_POINT + track_gain // TRACKS_PER_POINT + round(ENTROPY_POINTS * entropy_gain)
    richness_share = sum(float(s or 0) for s in shares) / len(RICHNESS_FIELDS) if shares else 0.0
    detail = ", ".join(f"{name} {float(s or 0):.0%}" for name, s in zip(RICHNESS_FIELDS, shares or (), strict=False))
    parts = (
        ScoreItem("volume", volume, f"{plays} new plays, one point per {PLAYS_PER_POINT}"),
        ScoreItem(
            "span",
            after.weeks - before.weeks,
            f"history spans {after.span_days:.0f} days (was {before.span_days:.0f}) with plays in {after.weeks} "
            f"weeks (was {before.weeks}), one point per week added",
        ),
        ScoreItem(
            "diversity",
            diversity,
            f"{artist_gain} new artists (one point per {ARTISTS_PER_POINT}), {track_gain} new tracks (one per "
            f"{TRACKS_PER_POINT}), artist entropy {after.entropy_bits:.2f} bits (was {before.entropy_bits:.2f}; "
            f"{ENTROPY_POINTS} points per bit gained)",
        ),
        ScoreItem(
            "richness",
            round(volume * richness_share),
            f"volume points times the share of detail recorded ({richness_share:.0%}: {detail or 'no new plays'})",
        ),
    )
    return Score(parts)


def check_weights(weights: Mapping[str, int]) -> dict[str, int]:
    """``weights`` as a policy may hold them (see the module docstring); InvalidInput naming what is wrong."""
    unknown = sorted(set(weights) - set(PARTS))
    if unknown:
        raise InvalidInput(f"scoring weights are given for the parts {', '.join(PARTS)}; not for {', '.join(unknown)}")
    for name, value in weights.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_WEIGHT:
            raise InvalidInput(f"the weight of {name} must be a whole percentage from 0 to {MAX_WEIGHT}")
    return {name: weights[name] for name in PARTS if name in weights}


def every_weight(weights: Mapping[str, int]) -> dict[str, int]:
    """The weight of every part, in ``PARTS`` order: ``weights``' where it names one, full weight elsewhere."""
    return {part: weights.get(part, FULL_WEIGHT) for part in PARTS}


def weighted(score: Score, weights: Mapping[str, int]) -> Score:
    """``score`` with each part weighed as the policy in force says (see the module docstring)."""
    parts = []
    for item in score.items:
        weight = weights.get(item.name, FULL_WEIGHT)
        if item.name not in PARTS or weight == FULL_WEIGHT:
            parts.append(item)
            continue
        explanation = f"{item.explanation}; {item.points:,} points weighted {weight} % by the members' policy"
        parts.append(replace(item, points=item.points * weight // FULL_WEIGHT, explanation=explanation))
    return Score(tuple(parts))


def with_returns(scored: Scored, prior_raw: int, weights: Mapping[str, int] | None = None) -> Scored:
    """``scored`` weighed by the policy's ``weights`` and with the member's diminishing returns applied, given
    their raw points so far."""
    parts = tuple(i for i in weighted(scored.score, weights or {}).items if i.name != DIMINISHING)
    raw = max(0, sum(p.points for p in parts))
    gained = earned(prior_raw + raw) - earned(prior_raw)
    damped = ScoreItem(
        DIMINISHING,
        gained - raw,
        f"{raw:,} raw points on top of {prior_raw:,} before: each member's points grow ever more slowly and "
        f"never reach {MEMBER_CAP:,}",
    )
    return Scored(scored.new_rows, Score((*parts, damped)))
