"""The eras of a whole listening history: stretches of months dominated by the same artists.

Method (music only, counted plays, the whole history whatever the period):

1. Each month becomes a vector of listening shares over the leading artists: every artist who makes the top
   ``TOP_PER_MONTH`` (20) of some month, by time. A share is the artist's time over all music time of that
   month. Scrobbles carry no duration; each counts as ``ASSUMED_PLAY_MS`` (3.5 minutes, about a song) in the
   shares only. Months with fewer than ``MIN_MONTH_PLAYS`` plays say too little and are left out of the
   segmentation (their plays still count towards the era around them).
2. Vectors are scaled to unit length, so a month is judged by whom it was spent on, not by how much was heard.
3. The months are cut into contiguous eras of at least ``MIN_ERA_MONTHS`` (3) months by dynamic programming,
   minimising the sum over months of the squared distance to their era's mean vector plus ``ERA_PENALTY``
   (1.5) per era. The penalty sits between two bounds: cutting months that share only a common part and
   otherwise nothing (pure month-to-month noise) gains at most 1 per extra era, so noise alone never opens one;
   months with no artist in common are at squared distance 2, so merging two such phases of only three months
   each would cost 3, and a real change of artists always does.
4. An era is named after its defining artists: of its ``NAME_CANDIDATES`` (10) biggest artists, the three
   whose share in the era is highest relative to their share in the rest of the history (lift, with
   ``LIFT_FLOOR`` added to the share elsewhere so that a rarely heard artist does not win on a tiny share).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

from tutti.insights.scope import Scope

TOP_PER_MONTH = 20
ASSUMED_PLAY_MS = 210_000
MIN_MONTH_PLAYS = 10
MIN_ERA_MONTHS = 3
ERA_PENALTY = 1.5
NAME_CANDIDATES = 10
LIFT_FLOOR = 0.01

Vector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Era:
    start: str  # 'YYYY-MM', first month of the era
    end: str  # 'YYYY-MM', last month of the era
    name: str  # e.g. "The Radiohead, Björk & Portishead era"
    artists: list[str]  # the defining artists, most defining first
    ms_played: int  # music time in the era's months (counted plays with a known duration)
    plays: int  # counted music plays in the era's months
    months: int  # months of the era that had enough plays to shape it
    shares: list[float]  # each defining artist's share of the era's music time (with the assumed scrobble time)


# Summed per month and exact spelling first (cheap), then per artist by its name key (most common spelling). The
# leading artists are each month's top by time (ties to the name that sorts last, for a deterministic set).
_MONTHLY_ARTISTS_SQL = f"""
WITH spelled_months AS (
    SELECT date_trunc('month', local_date) AS month, artist, artist_key,
           sum(CASE WHEN ms_known THEN ms ELSE {ASSUMED_PLAY_MS} END) AS weight, sum(ms) AS ms, count(*) AS plays
    FROM {{history}}
    WHERE counts AND kind = 'music' AND artist_key IS NOT NULL
    GROUP BY ALL
),
artist_months AS (
    SELECT month, artist_key, first(artist ORDER BY plays DESC, artist) AS artist, sum(weight) AS weight,
           sum(ms) AS ms, sum(plays) AS plays
    FROM spelled_months GROUP BY month, artist_key
),
months AS (
    SELECT month, sum(weight) AS weight, sum(ms) AS ms, sum(plays) AS plays,
           arg_max(artist_key, (weight, artist_key), {TOP_PER_MONTH}) AS leaders
    FROM artist_months GROUP BY month
),
leading_artists AS (
    SELECT artist_key, first(artist ORDER BY plays DESC, artist) AS artist FROM artist_months
    WHERE artist_key IN (SELECT unnest(leaders) FROM months)
    GROUP BY artist_key
)
SELECT strftime(a.month, '%Y-%m'), l.artist, a.weight::DOUBLE, m.weight::DOUBLE, m.ms::BIGINT, m.plays::BIGINT
FROM artist_months a JOIN leading_artists l USING (artist_key) JOIN months m USING (month)
"""


def _segment_costs(units: Vector) -> Vector:
    """cost[i, j]: squared distance of months i..j-1 to their mean (unit vectors), from prefix sums."""
    prefix = np.vstack([np.zeros((1, units.shape[1])), np.cumsum(units, axis=0)])
    gram = prefix @ prefix.T
    diag = np.diag(gram)
    sums = diag[None, :] - 2 * gram + diag[:, None]  # |P[j] - P[i]|^2
    lengths = np.arange(len(prefix))[None, :] - np.arange(len(prefix))[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        costs = lengths - sums / lengths
    return cast(Vector, np.where(lengths >= MIN_ERA_MONTHS, costs, np.inf))


def _best_cuts(units: Vector) -> list[int]:
    """Era boundaries (month indices, the last one the number of months) minimising cost plus penalty."""
    months = len(units)
    if months < 2 * MIN_ERA_MONTHS:
        return [months]
    costs = _segment_costs(units)
    best = np.full(months + 1, np.inf)
    best[0] = 0.0
    previous = np.zeros(months + 1, dtype=np.int64)
    for end in range(MIN_ERA_MONTHS, months + 1):
        totals = best[:end] + costs[:end, end] + ERA_PENALTY
        previous[end] = int(np.argmin(totals))
        best[end] = totals[previous[end]]
    cuts = [months]
    while cuts[-1] > 0:
        cuts.append(int(previous[cuts[-1]]))
    return cuts[::-1][1:]


def _era_name(artists: list[str]) -> str:
    if not artists:
        return "An era without named artists"
    listed = artists[0] if len(artists) == 1 else f"{', '.join(artists[:-1])} & {artists[-1]}"
    return f"{'' if listed.lower().startswith('the ') else 'The '}{listed} era"


def eras(scope: Scope) -> list[Era]:
    """The eras of the whole history of the scope's profile, oldest first (see the module doc)."""
    rows = scope.query(_MONTHLY_ARTISTS_SQL)
    if not rows:
        return []
    month_col, artist_col, weight_col, month_weight_col, month_ms_col, month_plays_col = zip(*rows, strict=True)
    month_labels, month_index = np.unique(np.array(month_col, dtype=str), return_inverse=True)
    names, artist_index = np.unique(np.array(artist_col, dtype=object), return_inverse=True)
    weights = np.zeros((len(month_labels), len(names)))
    weights[month_index, artist_index] = np.array(weight_col, dtype=np.float64)
    month_weight = np.zeros(len(month_labels))
    month_weight[month_index] = np.array(month_weight_col, dtype=np.float64)
    month_ms = np.zeros(len(month_labels), dtype=np.int64)
    month_ms[month_index] = np.array(month_ms_col, dtype=np.int64)
    month_plays = np.zeros(len(month_labels), dtype=np.int64)
    month_plays[month_index] = np.array(month_plays_col, dtype=np.int64)

    shaping = np.flatnonzero(month_plays >= MIN_MONTH_PLAYS)
    if len(shaping) < MIN_ERA_MONTHS:
        return []  # too little history to speak of eras
    shares = weights[shaping] / month_weight[shaping, None]
    units = shares / np.linalg.norm(shares, axis=1, keepdims=True)
    artist_totals = weights.sum(axis=0)
    history_total = float(month_weight.sum())
    result: list[Era] = []
    first = 0
    for cut in _best_cuts(units):
        inside = shaping[first:cut]
        span = slice(int(inside[0]), int(inside[-1]) + 1)  # every month between the first and last, thin ones too
        era_weights = weights[span].sum(axis=0)
        era_total = float(month_weight[span].sum())
        share_in = era_weights / era_total
        rest_total = history_total - era_total
        share_out = (artist_totals - era_weights) / rest_total if rest_total > 0 else np.zeros_like(share_in)
        candidates = np.argsort(-share_in, kind="stable")[:NAME_CANDIDATES]
        candidates = candidates[share_in[candidates] > 0]
        lift = share_in[candidates] / (share_out[candidates] + LIFT_FLOOR)
        chosen = candidates[np.lexsort((candidates, -share_in[candidates], -lift))][:3]
        artists = [str(names[i]) for i in chosen]
        result.append(
            Era(
                start=str(month_labels[span.start]),
                end=str(month_labels[span.stop - 1]),
                name=_era_name(artists),
                artists=artists,
                ms_played=int(month_ms[span].sum()),
                plays=int(month_plays[span].sum()),
                months=len(inside),
                shares=[round(float(share_in[i]), 4) for i in chosen],
            )
        )
        first = cut
    return result
