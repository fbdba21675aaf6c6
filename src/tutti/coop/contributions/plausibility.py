"""Could a person really have listened like this? Named checks over an upload's plays, and a score.

Each check measures one value over the plays (an Arrow table of ``PLAY_SCHEMA``, queried with DuckDB), compares
it with a threshold and says why it passed or failed. A check needs enough plays to mean anything; below its
minimum it is reported as not applicable and does not count. The thresholds were set on every real export in
``../shared/samples`` (all pass with a margin; the measured extremes are quoted beside each threshold) and on
fabricated histories built in the tests (each fails where it should).

Impossible listening is measured per source (a Spotify play also present in account data or scrobbled to
Last.fm is one play, not two at once) on plays with a known duration, as intervals [start, end]:

* ``overfull_hours``: an hour of the clock (UTC) is *overfull* when the playback falling inside it, summed over
  plays, exceeds 75 minutes: 25 % more than the hour holds, which covers minute-truncated end times and a rare
  second device playing at the same time. Fails when more than 1 % of the hours with any playback, and more
  than two hours, are overfull (real exports: at most 0.13 %).
* ``overlapping_playback``: the share of all playback during which an earlier play of the same source was still
  running. Minute-precision exports overlap a little by construction (real: at most 6.6 %); fails above 20 %.
* ``scrobble_spacing``: scrobbles (Last.fm, ListenBrainz) need 30 s of listening each, so consecutive scrobbles
  of different tracks less than 30 s apart (or in one minute, for minute-precision files) are impossible beyond
  a small share (real: at most 4 %); fails above 15 %.

A play every few minutes day and night, however plausible each record looks, fails three *critical* checks of
sleep and clockwork (``daily_rhythm``: the quietest six hours of the day hold at most 14 % of a real export's
plays and a quarter of a round-the-clock one's; ``sleepless_days``: days with plays in 21 or more of their hours
are at most 1.1 % of a real export's days; ``regular_endings``: at most 41 % of a real export's intervals
between the ends of consecutive plays are one same value). Reports say what was measured and whether it is like
real listening, never the limits themselves, which would only guide a fabricator.

The score starts at 100 and each failed check takes off its penalty (a check that does not apply takes off
nothing), down to 0. A failed *critical* check rejects the upload and caps the score at ``CRITICAL_CAP``;
otherwise an upload needs ``ACCEPT_SCORE``: one odd trait of a real history is tolerated, two are not.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

ACCEPT_SCORE = 60
# What a report says of a check's limit: where it comes from, never the number (a tuning guide for fabricators).
CALIBRATED = "set on real exports"
CRITICAL_CAP = 25
_INTERVALS = """
intervals AS (
    SELECT source, epoch_ms(coalesce(start_utc, end_utc - to_milliseconds(ms_played))) AS s,
           epoch_ms(coalesce(end_utc, start_utc + to_milliseconds(ms_played))) AS e
    FROM plays WHERE ms_played > 0 AND coalesce(start_utc, end_utc) IS NOT NULL
)"""
_HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Check:
    """One named check: what was measured, against which threshold, and the verdict in words."""

    name: str
    value: float | None
    threshold: str
    applicable: bool
    passed: bool
    critical: bool
    penalty: int
    reason: str


@dataclass(frozen=True)
class Plausibility:
    checks: tuple[Check, ...]
    score: int
    passed: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class _Rule:
    name: str
    sql: str  # returns (value, basis, count): the measure, how many things it was measured over, offenders
    limit: float
    upper: bool  # True: value must be <= limit; False: value must be >= limit
    min_basis: int
    penalty: int
    critical: bool
    what: str  # the measure in words, with {value} and {basis}
    min_count: int = 0  # the third value needed to fail (offending hours, platforms in use)


def _worst_source(per_source_sql: str) -> str:
    return f"SELECT value, basis, count FROM ({per_source_sql}) ORDER BY value DESC NULLS LAST LIMIT 1"


# fmt: off
RULES: tuple[_Rule, ...] = (
    _Rule(
        "overfull_hours",
        _worst_source(f"""WITH {_INTERVALS},
        pieces AS (SELECT source, s, e, unnest(range(s // {_HOUR_MS} * {_HOUR_MS}, e, {_HOUR_MS})) AS hr
                   FROM intervals),
        hours AS (SELECT source, hr, sum(least(e, hr + {_HOUR_MS}) - greatest(s, hr)) AS ms
                  FROM pieces GROUP BY source, hr)
        SELECT source, avg((ms > 75 * 60000)::INT) AS value, count(*) AS basis,
               count(*) FILTER (WHERE ms > 75 * 60000) AS count
        FROM hours GROUP BY source"""),
        0.01, True, 1, 60, True,  # limit, upper, minimum, penalty, critical
        "{value:.2%} of {basis} hours with playback hold more of it than the hour can",
        min_count=3,
    ),
    _Rule(
        "overlapping_playback",
        _worst_source(f"""WITH {_INTERVALS},
        ordered AS (SELECT source, s, e, max(e) OVER (PARTITION BY source ORDER BY s, e
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before_end FROM intervals)
        SELECT source, sum(greatest(0, least(e, coalesce(before_end, 0)) - s)) / sum(e - s) AS value,
               count(*) AS basis, count(*) FILTER (WHERE before_end > s) AS count
        FROM ordered GROUP BY source"""),
        0.20, True, 20, 40, True,
        "{value:.1%} of the playback of {basis} plays overlaps an earlier play",
    ),
    _Rule(
        "scrobble_spacing",
        _worst_source("""WITH scrobbles AS (
            SELECT source, time_precision, epoch(start_utc) AS t, lower(artist) || chr(31) || lower(track) AS k
            FROM plays WHERE source IN ('lastfm', 'listenbrainz') AND start_utc IS NOT NULL AND ms_played IS NULL),
        gaps AS (SELECT source, time_precision, t - lag(t) OVER w AS gap, k <> lag(k) OVER w AS other
                 FROM scrobbles WINDOW w AS (PARTITION BY source ORDER BY t, k))
        SELECT source, avg((other AND gap < CASE time_precision WHEN 'minute' THEN 1 ELSE 30 END)::INT) AS value,
               count(*) AS basis, count(*) FILTER (WHERE other AND gap < 30) AS count
        FROM gaps WHERE gap IS NOT NULL GROUP BY source"""),
        0.15, True, 50, 60, True,
        "{value:.1%} of {basis} consecutive scrobbles are of another track sooner than a track can be scrobbled",
    ),
    _Rule(
        "long_music_plays",
        """SELECT avg((ms_played > 3600000)::INT), count(*), count(*) FILTER (WHERE ms_played > 3600000)
           FROM plays WHERE content_kind = 'music' AND ms_played IS NOT NULL""",
        0.02, True, 50, 30, False,
        "{value:.2%} of {basis} music plays last longer than music plays do",
    ),
    _Rule(
        "top_track_share",
        """SELECT max(n) / sum(n), sum(n), max(n) FROM (
               SELECT count(*) AS n FROM plays WHERE track IS NOT NULL GROUP BY lower(artist), lower(track))""",
        0.25, True, 50, 40, False,
        "the most played track is {value:.1%} of {basis} plays",
    ),
    _Rule(
        "repeated_duration",
        """WITH tracks AS (SELECT lower(artist) AS a, lower(track) AS k, ms_played AS m FROM plays
                           WHERE ms_played IS NOT NULL AND track IS NOT NULL),
           often AS (SELECT a, k FROM tracks GROUP BY a, k HAVING count(*) >= 3),
           modal AS (SELECT a, k, m, count(*) AS n FROM tracks JOIN often USING (a, k) GROUP BY a, k, m
                     QUALIFY row_number() OVER (PARTITION BY a, k ORDER BY count(*) DESC, m) = 1)
           SELECT sum(n) / (SELECT count(*) FROM tracks JOIN often USING (a, k)),
                  (SELECT count(*) FROM tracks JOIN often USING (a, k)), sum(n) FROM modal""",
        0.90, True, 100, 30, False,
        "{value:.1%} of {basis} plays of tracks played 3+ times last exactly that track's most common time "
        "",
    ),
    _Rule(
        "duration_shape",
        """WITH x AS (SELECT ms_played AS m FROM plays WHERE ms_played IS NOT NULL),
           top AS (SELECT quantile_cont(m, 0.99) AS p FROM x),
           cdf AS (SELECT m, p, row_number() OVER (ORDER BY m) / count(*) OVER () AS f FROM x, top WHERE m <= p)
           SELECT max(abs(f - m / nullif(p, 0))), (SELECT count(*) FROM x), 0 FROM cdf""",
        0.10, False, 200, 35, False,
        "times played differ from a uniform spread by {value:.2f} (Kolmogorov-Smirnov distance over {basis} "
        "plays)",
    ),
    _Rule(
        "reason_mix",
        """WITH r AS (SELECT reason_start, reason_end FROM plays WHERE reason_end IS NOT NULL)
           SELECT least((SELECT max(n) FROM (SELECT count(*) AS n FROM r GROUP BY reason_start)),
                        (SELECT max(n) FROM (SELECT count(*) AS n FROM r GROUP BY reason_end))) / count(*),
                  count(*), 0 FROM r""",
        0.98, True, 200, 30, False,
        "one start reason and one end reason cover at least {value:.1%} of {basis} plays",
    ),
    _Rule(
        "daily_rhythm",
        """WITH h AS (SELECT hour(coalesce(start_utc, end_utc)) AS h, count(*) AS n FROM plays GROUP BY h),
           day AS (SELECT r.range AS h, coalesce(n, 0) AS n FROM range(24) r LEFT JOIN h ON h.h = r.range),
           twice AS (SELECT h, n FROM day UNION ALL SELECT h + 24, n FROM day),
           windows AS (SELECT h, sum(n) OVER (ORDER BY h ROWS BETWEEN CURRENT ROW AND 5 FOLLOWING) AS n FROM twice)
           SELECT min(n) / (SELECT sum(n) FROM day), (SELECT sum(n) FROM day), 0 FROM windows WHERE h < 24""",
        0.20, True, 300, 40, True,
        "the quietest six hours of the day hold {value:.1%} of {basis} plays "
        "(people sleep)",
    ),
    _Rule(
        "session_continuity",
        f"""WITH {_INTERVALS},
        gaps AS (SELECT s - lag(e) OVER (PARTITION BY source ORDER BY s, e) AS gap FROM intervals)
        SELECT avg((gap BETWEEN -60000 AND 120000)::INT), count(*), 0 FROM gaps WHERE gap IS NOT NULL""",
        0.20, False, 200, 25, False,
        "{value:.1%} of {basis} plays start within two minutes of the previous one's end "
        "(people listen in sessions)",
    ),
    _Rule(
        "regular_spacing",
        """WITH t AS (SELECT epoch(coalesce(start_utc, end_utc)) AS t FROM plays WHERE coalesce(start_utc, end_utc)
                      IS NOT NULL),
           gaps AS (SELECT t - lag(t) OVER (ORDER BY t) AS gap FROM t)
           SELECT max(n) / sum(n), sum(n), max(n) FROM (SELECT count(*) AS n FROM gaps WHERE gap > 0 GROUP BY gap)""",
        0.50, True, 50, 30, False,
        "{value:.1%} of {basis} intervals between consecutive plays are one and the same",
    ),
    _Rule(
        "platform_mix",
        """SELECT max(n) / sum(n), sum(n), count(*) FROM (
               SELECT count(*) AS n FROM plays WHERE platform <> 'unknown' GROUP BY platform)""",
        0.40, False, 200, 25, False,
        "the most used of the platforms is behind {value:.1%} of {basis} plays (people mostly use one device)",
        min_count=4,
    ),
    _Rule(
        # Days with plays in 21 or more of their 24 hours. People sleep: real exports at most 1.1 % of their days
        # with plays; a play every few minutes day and night, nearly all of them.
        "sleepless_days",
        """WITH h AS (SELECT DISTINCT date_trunc('day', coalesce(start_utc, end_utc)) AS d,
                             hour(coalesce(start_utc, end_utc)) AS h
                      FROM plays WHERE coalesce(start_utc, end_utc) IS NOT NULL),
           days AS (SELECT d, count(*) AS hours FROM h GROUP BY d)
           SELECT avg((hours >= 21)::INT), count(*), count(*) FILTER (WHERE hours >= 21) FROM days""",
        0.25, True, 14, 60, True,
        "{value:.1%} of {basis} days with plays have plays in nearly every hour (people sleep)",
        min_count=5,
    ),
    _Rule(
        # The most common interval between consecutive end times (recorded ones only). Real exports: at most 41 %
        # (minute-precision account data, where equal lengths give equal intervals); clockwork fabrications: all.
        "regular_endings",
        """WITH t AS (SELECT epoch(end_utc) AS t FROM plays WHERE end_utc IS NOT NULL),
           gaps AS (SELECT t - lag(t) OVER (ORDER BY t) AS gap FROM t)
           SELECT max(n) / sum(n), sum(n), max(n) FROM (SELECT count(*) AS n FROM gaps WHERE gap > 0 GROUP BY gap)""",
        0.75, True, 200, 60, True,
        "{value:.1%} of {basis} intervals between the ends of consecutive plays are one and the same",
    ),
)
# fmt: on


def _evaluate(rule: _Rule, row: tuple[object, ...] | None) -> Check:
    value = None if row is None or row[0] is None else float(str(row[0]))
    basis = int(str(row[1])) if row and row[1] is not None else 0
    count = int(str(row[2])) if row and row[2] is not None else 0
    if value is None or basis < rule.min_basis:
        reason = f"not applicable: measured over {basis}, too few to judge"
        return Check(rule.name, value, CALIBRATED, False, True, rule.critical, rule.penalty, reason)
    within = value <= rule.limit if rule.upper else value >= rule.limit
    ok = within or count < rule.min_count
    said = rule.what.format(value=value, basis=basis)
    reason = f"{said}: {'like' if ok else 'unlike'} real listening histories"
    return Check(rule.name, value, CALIBRATED, True, ok, rule.critical, rule.penalty, reason)


def _implausible_check(implausible: int, total: int) -> Check:
    share = implausible / total if total else 0.0
    ok = share <= 0.01
    reason = (
        f"{implausible} of {total} records have impossible values (in the future, before 2000, negative or over "
        f"24 h): {'few enough' if ok else 'too many'}"
    )
    return Check("impossible_values", share, CALIBRATED, total > 0, ok, True, 50, reason)


def check(table: pa.Table, *, implausible_records: int = 0) -> Plausibility:
    """Run every check over ``table`` (``PLAY_SCHEMA``); ``implausible_records`` come from the import problems."""
    con = duckdb.connect()
    try:
        con.register("plays", table)
        checks = [_implausible_check(implausible_records, table.num_rows + implausible_records)]
        for rule in RULES:
            rows = con.execute(rule.sql).fetchall()
            checks.append(_evaluate(rule, rows[0] if rows else None))
    finally:
        con.close()
    return summarise(checks)


def summarise(checks: list[Check]) -> Plausibility:
    """100 minus the penalties of failed checks; a failed critical check caps the score and rejects."""
    failed = [c for c in checks if c.applicable and not c.passed]
    score = max(0, 100 - sum(c.penalty for c in failed))
    critical_failed = any(c.critical for c in failed)
    if critical_failed:
        score = min(score, CRITICAL_CAP)
    reasons = tuple(f"{c.name}: {c.reason}" for c in failed)
    return Plausibility(tuple(checks), score, score >= ACCEPT_SCORE and not critical_failed, reasons)
