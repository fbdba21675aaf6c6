"""Tracks played in bursts (obsessions) and artists who came back after a long silence (comebacks).

Obsession, precisely: for each music track (artist and title, by their name keys), every counted play in the
period opens a window of 7 local calendar days (its day and the 6 after). The window holding the most counted
plays of that track is its best week (the earliest one on a tie). A track is an obsession when that week holds
at least ``MIN_WINDOW_PLAYS`` (5) counted plays and at least half (``MIN_WINDOW_SHARE``) of the track's counted
plays in the period: a burst, not a steady favourite. Ranked by plays in the window, then plays in the period.
``window_start`` is the day of the window's first play and ``window_end`` the day of its last.

Comeback, precisely: an artist (music, by its name key) whose counted plays resume inside the period after
at least ``min_gap_days`` days without a counted play of theirs, looking at the whole history, and who had at
least ``MIN_PLAYS_BEFORE`` (3) counted plays before that gap. ``last_before`` is the day of the last play before
the gap, ``returned`` the day of the first play after it, ``plays_after`` the counted plays in the period from
``returned`` on. An artist with several such gaps in the period is reported with the longest. A gap in the
history itself (an export that misses a year) looks like silence for every artist: ``listening_days_in_gap``
counts the days inside the gap with any counted play, so a report can tell a comeback from a hole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import cast

from tutti.insights.scope import Scope

WINDOW_DAYS = 7
MIN_WINDOW_PLAYS = 5
MIN_WINDOW_SHARE = 0.5
MIN_PLAYS_BEFORE = 3


@dataclass(frozen=True)
class Obsession:
    track: str
    artist: str | None
    window_start: date  # day of the first play of the best 7-day window
    window_end: date  # day of its last play (at most 6 days later)
    plays_in_window: int
    plays_in_period: int


@dataclass(frozen=True)
class Comeback:
    artist: str
    last_before: date  # last counted play before the silence
    returned: date  # first counted play after it, inside the period
    gap_days: int
    plays_after: int  # counted plays in the period from ``returned`` on
    plays_before: int  # counted plays in the whole history before the silence
    listening_days_in_gap: int  # days inside the gap with counted plays of anything: 0 means you were away


# Counted first per exact spelling and calendar week (cheap), then pruned: a 7-day window spans at most two
# calendar weeks, so a track whose spellings' best two weeks cannot reach the thresholds is left out before
# the exact (costlier) windows are computed over the days of the few tracks that remain.
_OBSESSIONS_SQL = f"""
WITH spelled_weeks AS (
    SELECT artist, track, artist_key, track_key, date_trunc('week', local_date) AS week, count(*) AS plays
    FROM {{plays}}
    WHERE counts AND kind = 'music' AND artist_key IS NOT NULL AND track_key IS NOT NULL
    GROUP BY ALL
),
spellings AS (
    SELECT artist, track, artist_key, track_key, sum(plays) AS plays,
           list_sum(max(plays, 2)) AS best_two_weeks
    FROM spelled_weeks GROUP BY artist, track, artist_key, track_key
),
candidates AS (
    SELECT artist_key, track_key, first(artist ORDER BY plays DESC, artist) AS artist,
           first(track ORDER BY plays DESC, track) AS track, sum(plays) AS plays_in_period
    FROM spellings GROUP BY artist_key, track_key
    HAVING sum(best_two_weeks) >= {MIN_WINDOW_PLAYS} AND sum(best_two_weeks) >= {MIN_WINDOW_SHARE} * sum(plays)
),
candidate_spellings AS MATERIALIZED (
    SELECT artist, track, artist_key, track_key FROM spellings SEMI JOIN candidates USING (artist_key, track_key)
),
track_days AS (
    SELECT s.artist_key, s.track_key, p.local_date, count(*) AS plays
    FROM {{plays}} p JOIN candidate_spellings s USING (artist, track)
    WHERE p.counts AND p.kind = 'music'
    GROUP BY ALL
),
windows AS (
    SELECT artist_key, track_key, local_date AS window_start,
           sum(plays) OVER week AS plays_in_window, max(local_date) OVER week AS window_end
    FROM track_days
    WINDOW week AS (
        PARTITION BY artist_key, track_key ORDER BY date_diff('day', DATE '1970-01-01', local_date)
        RANGE BETWEEN CURRENT ROW AND {WINDOW_DAYS - 1} FOLLOWING
    )
),
best_windows AS (
    SELECT * FROM windows
    QUALIFY row_number() OVER (
        PARTITION BY artist_key, track_key ORDER BY plays_in_window DESC, window_start
    ) = 1
)
SELECT c.track, c.artist, b.window_start, b.window_end, b.plays_in_window::BIGINT, c.plays_in_period::BIGINT
FROM best_windows b JOIN candidates c USING (artist_key, track_key)
WHERE b.plays_in_window >= {MIN_WINDOW_PLAYS} AND b.plays_in_window >= {MIN_WINDOW_SHARE} * c.plays_in_period
ORDER BY b.plays_in_window DESC, c.plays_in_period DESC, c.track, c.artist
LIMIT ?
"""


def obsessions(scope: Scope, n: int = 10) -> list[Obsession]:
    """The ``n`` tracks whose plays in the period were most concentrated in one week (see the module doc)."""
    rows = scope.query(_OBSESSIONS_SQL, [n])
    return [Obsession(*cast(tuple[str, str, date, date, int, int], row)) for row in rows]


# Before the period only two things matter per artist: the last day played and the plays up to it (plain
# sums, no sorting). Inside the period, each artist's days are put in order behind that last day to find the
# gaps. Spellings get the number of their folded (lower-case) name, so the heavy steps work on integers.
_COMEBACKS_SQL = f"""
WITH period_bounds AS (
    SELECT min(local_date) AS first_day, max(local_date) AS last_day FROM {{plays}}
),
spelled_before AS (
    SELECT h.artist, h.artist_key, max(h.local_date) AS local_date, count(*) AS plays
    FROM {{history}} h, period_bounds b
    WHERE h.counts AND h.kind = 'music' AND h.artist_key IS NOT NULL AND h.local_date < b.first_day
    GROUP BY h.artist, h.artist_key
),
artist_ids AS (
    SELECT artist, dense_rank() OVER (ORDER BY artist_key) AS artist_id
    FROM (
        SELECT artist, artist_key FROM spelled_before
        UNION
        SELECT DISTINCT artist, artist_key FROM {{plays}} WHERE counts AND kind = 'music' AND artist_key IS NOT NULL
    )
),
artist_days AS (
    SELECT i.artist_id, max(s.local_date) AS local_date, sum(s.plays) AS plays
    FROM spelled_before s JOIN artist_ids i USING (artist) GROUP BY i.artist_id
    UNION ALL
    SELECT i.artist_id, p.local_date, count(*) AS plays
    FROM {{plays}} p JOIN artist_ids i USING (artist)
    WHERE p.counts AND p.kind = 'music'
    GROUP BY ALL
),
gaps AS (
    SELECT d.artist_id, d.previous_date AS last_before, d.local_date AS returned,
           date_diff('day', d.previous_date, d.local_date) AS gap_days
    FROM (
        SELECT artist_id, local_date, lag(local_date) OVER (PARTITION BY artist_id ORDER BY local_date) AS previous_date
        FROM artist_days
    ) d, period_bounds b
    WHERE d.local_date >= b.first_day AND date_diff('day', d.previous_date, d.local_date) >= ?
),
counted AS (
    SELECT g.artist_id, g.last_before, g.returned, g.gap_days,
           sum(d.plays) FILTER (WHERE d.local_date < g.returned) AS plays_before,
           sum(d.plays) FILTER (WHERE d.local_date >= g.returned) AS plays_after
    FROM gaps g JOIN artist_days d USING (artist_id)
    GROUP BY ALL
),
returns AS (
    SELECT * FROM counted
    WHERE plays_before >= {MIN_PLAYS_BEFORE}
    QUALIFY row_number() OVER (PARTITION BY artist_id ORDER BY gap_days DESC, returned) = 1
),
names AS (
    SELECT artist_id, min(artist) AS artist FROM artist_ids SEMI JOIN returns USING (artist_id) GROUP BY artist_id
),
listening_days AS (
    SELECT local_date, row_number() OVER (ORDER BY local_date) AS day_index
    FROM (SELECT DISTINCT local_date FROM {{history}} WHERE counts)
)
SELECT n.artist, r.last_before, r.returned, r.gap_days, r.plays_after::BIGINT, r.plays_before::BIGINT,
       returned_day.day_index - last_day.day_index - 1 AS listening_days_in_gap
FROM returns r JOIN names n USING (artist_id)
JOIN listening_days last_day ON last_day.local_date = r.last_before
JOIN listening_days returned_day ON returned_day.local_date = r.returned
ORDER BY r.plays_after DESC, r.gap_days DESC, n.artist
LIMIT ?
"""


def comebacks(scope: Scope, min_gap_days: int = 180, n: int = 10) -> list[Comeback]:
    """The ``n`` artists back in the period after ``min_gap_days`` or more of silence, by plays since."""
    rows = scope.query(_COMEBACKS_SQL, [min_gap_days, n])
    return [Comeback(*cast(tuple[str, date, date, int, int, int, int], row)) for row in rows]
