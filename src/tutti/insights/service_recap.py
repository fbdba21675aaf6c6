"""Spotify's own yearly summary (its Wrapped20XX.json, stored verbatim) set beside our figures.

Spotify's window runs from 1 January to about mid-November, when it stops collecting data; the file does not
give the cut-off, so ``window_end`` is taken as 15 November (its per-artist stream counts, by half-month, run to
the first half of November). Ours are computed over the same window, restricted to the days our history
covers (``compared_start``..``compared_end``), whatever the period of the recap. Spotify names its top artists
and tracks only by URI: they are named here when something in the store gives that URI a name (extended
streaming history, a library or playlist export with URIs), and marked as not resolvable otherwise.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from tutti.insights.scope import Scope
from tutti.insights.wrapped_file import Wrapped, read_wrapped

WINDOW_END = (11, 15)  # assumed: the file does not say when Spotify stopped counting
WINDOW_TEXT = "1 Jan to mid-November; the file does not give the cut-off"
TOP_N = 5


@dataclass(frozen=True)
class RecapFigure:
    """One figure: Spotify's as display text (None: the file does not hold it), ours beside it (None: Tutti
    has no such figure, e.g. genres), and how ours was counted."""

    name: str
    theirs: str | None
    ours: str | None
    note: str


@dataclass(frozen=True)
class ServiceComparison:
    source: str
    year: int
    window_start: date  # Spotify's window
    window_end: date  # its last day (assumed, see the module doc)
    figures: list[RecapFigure]
    explanation: list[str]  # why the figures differ, in plain words
    source_file: str
    compared_start: date | None  # the part of the window our history covers; None if it covers none
    compared_end: date | None


# Names for URIs from anything in the store that pairs them: plays, library items, playlist entries.
_NAMES_SQL = """
SELECT uri, min(name), min(artist) FROM (
    SELECT spotify_uri AS uri, track AS name, artist FROM plays
    WHERE profile = $profile AND list_contains($uris, spotify_uri)
    UNION ALL
    SELECT uri, name, artist FROM library_items WHERE profile = $profile AND list_contains($uris, uri)
    UNION ALL
    SELECT e.uri, e.track, e.artist FROM playlist_entries e JOIN playlists l USING (playlist_id)
    WHERE l.profile = $profile AND list_contains($uris, e.uri)
) WHERE name IS NOT NULL GROUP BY uri
"""

_FACTS_SQL = """
WITH marked AS (
    SELECT *, local_date BETWEEN ? AND ? AS in_window,
           kind = 'music' AND lower(artist) = ? AND lower(track) = ? AS is_top_track
    FROM {history}
)
SELECT min(local_date), max(local_date),
       coalesce(sum(ms) FILTER (WHERE in_window), 0)::BIGINT,
       coalesce(sum(ms) FILTER (WHERE in_window AND kind = 'podcast'), 0)::BIGINT,
       count(DISTINCT lower(artist)) FILTER (WHERE in_window AND counts AND kind = 'music'),
       count(DISTINCT lower(artist) || chr(31) || lower(track)) FILTER (WHERE in_window AND counts AND kind = 'music'),
       coalesce(sum(ms) FILTER (WHERE local_date = ?), 0)::BIGINT,
       count(*) FILTER (WHERE in_window AND counts AND is_top_track),
       coalesce(string_agg(DISTINCT source, ', ' ORDER BY source) FILTER (WHERE in_window), '')
FROM marked
"""

# Our top artists and tracks by plays, and every artist's plays by half-month (days 1-15, 16-end): the halves of
# artists Spotify names, and the listening pattern that names the ones it gives only by URI.
_TOPS_SQL = f"""
WITH music AS (
    SELECT * FROM {{history}}
    WHERE counts AND kind = 'music' AND artist IS NOT NULL AND local_date BETWEEN ? AND ?
),
artists AS (
    SELECT 'artist' AS level, min(artist) AS name, NULL AS month, NULL AS half, count(*) AS plays, sum(ms) AS ms
    FROM music
    GROUP BY lower(artist) ORDER BY plays DESC, ms DESC, name LIMIT {TOP_N}
),
tracks AS (
    SELECT 'track' AS level, min(track) || ' (' || min(artist) || ')' AS name, NULL AS month, NULL AS half,
           count(*) AS plays, sum(ms) AS ms
    FROM music WHERE track IS NOT NULL
    GROUP BY lower(artist), lower(track) ORDER BY plays DESC, ms DESC, name LIMIT {TOP_N}
),
halves AS (
    SELECT 'half' AS level, min(artist) OVER (PARTITION BY lower(artist)) AS name, month(local_date) AS month,
           CASE WHEN day(local_date) <= 15 THEN 1 ELSE 2 END AS half, 1 AS plays, ms
    FROM music
)
SELECT level, name, month, half, sum(plays)::BIGINT, sum(ms)::BIGINT FROM (
    SELECT * FROM artists UNION ALL SELECT * FROM tracks UNION ALL SELECT * FROM halves
) GROUP BY level, name, month, half
ORDER BY level, sum(plays) DESC, sum(ms) DESC, name
"""

# The first day in the window on which we heard a track, and the busiest month's top artist, for the eras.
_TRACK_FIRST_SQL = """
SELECT min(local_date) FROM {history}
WHERE kind = 'music' AND lower(artist) = ? AND lower(track) = ? AND local_date BETWEEN ? AND ?
"""
_MONTH_TOP_SQL = """
SELECT min(artist) FROM {history}
WHERE counts AND kind = 'music' AND artist IS NOT NULL AND local_date BETWEEN ? AND ?
GROUP BY lower(artist) ORDER BY count(*) DESC, sum(ms) DESC, min(artist) LIMIT 1
"""
UNNAMED = "given by Spotify only as an ID that nothing in your data names"


def _shown(value: int | None, unit: str = "") -> str | None:
    return None if value is None else f"{value:,}{unit}"


def _percent(share: float | None, digits: int = 1) -> str | None:
    return None if share is None else f"{share:.{digits}f}%"


def _named(uris: list[str], names: dict[str, str]) -> str | None:
    """The names of ``uris``; those nothing names are counted, never shown as raw URIs."""
    if not uris:
        return None
    shown = [names[u] for u in uris if u in names]
    unnamed = len(uris) - len(shown)
    if unnamed:
        shown.append(f"{unnamed} more {UNNAMED}" if shown else f"{unnamed} {UNNAMED}")
    return ", ".join(shown)


def _halves(year: int, first: date, last: date) -> list[tuple[int, int, date, date]]:
    """The half-months (month, half, first day, last day) of ``year`` wholly inside first..last."""
    ranges = [(m, 1, date(year, m, 1), date(year, m, 15)) for m in range(1, 13)]
    ranges += [(m, 2, date(year, m, 16), date(year, m, monthrange(year, m)[1])) for m in range(1, 13)]
    return sorted(r for r in ranges if first <= r[2] and r[3] <= last)


def _by_pattern(
    wrapped: Wrapped, named: dict[str, str], ours: dict[str, dict[tuple[int, int], int]], halves: list[tuple[int, int]]
) -> dict[str, str]:
    """Names for top artists Spotify gives only by URI, from the listener's own plays: the artist whose plays per
    half-month follow Spotify's streams of that URI closely (at most 30% apart over the halves both cover, with
    5 streams or more), and clearly more closely than any other artist. Anything less certain stays unnamed."""
    found: dict[str, str] = {}
    taken = {n.lower() for n in named.values()}
    for uri in wrapped.top_artists:
        streams = wrapped.streams.get(uri, {})
        theirs = [streams.get(h, 0) for h in halves]
        if uri in named or sum(theirs) < 5:
            continue
        scores = []
        for artist, plays in ours.items():
            mine = [plays.get(h, 0) for h in halves]
            scores.append(
                (sum(abs(t - m) for t, m in zip(theirs, mine, strict=True)) / max(sum(theirs), sum(mine)), artist)
            )
        scores.sort()
        clear = len(scores) == 1 or (len(scores) > 1 and scores[1][0] >= scores[0][0] + 0.15)
        if scores and scores[0][0] <= 0.3 and clear and scores[0][1].lower() not in taken:
            found[uri] = scores[0][1]
            taken.add(scores[0][1].lower())
    return found


def compare_service_recaps(scope: Scope) -> list[ServiceComparison]:
    """Every stored Wrapped file of the profile whose year overlaps the period, beside our own figures."""
    period = scope.period
    recaps = scope.store.con.execute(
        "SELECT source, source_file, year, raw_json FROM service_recaps WHERE profile = ? ORDER BY year, source_file",
        [scope.profile],
    ).fetchall()
    return [
        _compare(scope, source, source_file, year, read_wrapped(raw))
        for source, source_file, year, raw in recaps
        if (period.start is None or period.start < date(year + 1, 1, 1))
        and (period.end is None or period.end > date(year, 1, 1))
    ]


def _compare(scope: Scope, source: str, source_file: str, year: int, wrapped: Wrapped) -> ServiceComparison:
    start, end = date(year, 1, 1), date(year, *WINDOW_END)
    uris = wrapped.top_artists + wrapped.top_tracks + wrapped.podcasts
    resolved = scope.store.con.execute(_NAMES_SQL, {"profile": scope.profile, "uris": uris}).fetchall()
    names: dict[str, tuple[str, str | None]] = {uri: (name, artist) for uri, name, artist in resolved}
    track, track_artist = names.get(wrapped.top_tracks[0] if wrapped.top_tracks else "", ("", None))
    facts = scope.query(_FACTS_SQL, [start, end, (track_artist or "").lower(), track.lower(), wrapped.top_day])[0]
    first, last, ms, podcast_ms, artists, tracks, day_ms, top_plays, sources = cast(
        tuple[date | None, date | None, int, int, int, int, int, int, str], facts
    )
    c_start = max(start, first) if first and last and first <= end and last >= start else None
    c_end = min(end, last) if c_start and last else None
    tops = scope.query(_TOPS_SQL, [c_start, c_end]) if c_end else []
    ours = {level: ", ".join(str(r[1]) for r in tops if r[0] == level) or "none" for level in ("artist", "track")}
    per_artist: dict[str, dict[tuple[int, int], int]] = {}
    artist_ms: dict[str, int] = {}
    for level, name, month, half, plays, played in tops:
        if level == "half":
            per_artist.setdefault(str(name), {})[cast(int, month), cast(int, half)] = cast(int, plays)
            artist_ms[str(name).lower()] = artist_ms.get(str(name).lower(), 0) + cast(int, played)
    whole = _halves(year, c_start, c_end) if c_start and c_end else []
    shown = {u: f"{n} ({a})" if a else n for u, (n, a) in names.items()}
    artist_names = {u: names[u][0] for u in wrapped.top_artists if u in names}
    matched = _by_pattern(wrapped, artist_names, per_artist, [(m, h) for m, h, _, _ in whole])
    artist_names |= matched
    shown |= {u: f"{n} (matched by listening pattern)" for u, n in matched.items()}
    same = (c_start, c_end) == (start, end)
    ours_span = f"{c_start}..{c_end}" if c_start else "no plays in the window"
    note = "same window" if same else f"Spotify: {start}..{end}; ours: {ours_span}"

    def ours_or_none(text: str) -> str:
        return text if c_end else "no plays of ours in the window"

    figures = [
        RecapFigure(
            "minutes listened", _shown(_min(wrapped.total_ms), " min"), ours_or_none(f"{ms // 60_000:,} min"), note
        ),
        RecapFigure(
            "podcast minutes",
            _shown(_min(wrapped.podcast_ms), " min"),
            ours_or_none(f"{podcast_ms // 60_000:,} min"),
            note,
        ),
        RecapFigure(
            "different artists", _shown(wrapped.unique_artists), ours_or_none(f"{artists:,}"), note + "; music"
        ),
        RecapFigure("different tracks", _shown(wrapped.distinct_tracks), ours_or_none(f"{tracks:,}"), note + "; music"),
        RecapFigure(
            "top artists", _named(wrapped.top_artists, shown), ours_or_none(ours["artist"]), note + "; ours by plays"
        ),
        RecapFigure(
            "top tracks", _named(wrapped.top_tracks, shown), ours_or_none(ours["track"]), note + "; ours by plays"
        ),
    ]
    figures += _spotify_only(
        scope, year, wrapped, shown, artist_names, artist_ms, (track, track_artist), (c_start, c_end)
    )
    for uri, name in artist_names.items() if whole else ():
        listed = [(m, h) for m, h, _, _ in whole if (m, h) in wrapped.streams.get(uri, {})]
        mine = per_artist.get(next((a for a in per_artist if a.lower() == name.lower()), ""), {})
        if listed:
            theirs: str | None = str(sum(wrapped.streams[uri][h] for h in listed))
            ours_streams = str(sum(mine.get(h, 0) for h in listed))
            halves_text = "the half-month" if len(listed) == 1 else f"the {len(listed)} half-months"
            span = f"{halves_text} wholly in our history that Spotify's file lists for this artist"
            if uri in matched:
                span += " (the pattern this artist was named by)"
        else:
            theirs, ours_streams = None, str(sum(mine.get((m, h), 0) for m, h, _, _ in whole))
            span = (
                "Spotify's file lists no streams in the half-months wholly in our history, "
                f"{whole[0][2]}..{whole[-1][3]}"
            )
        figures.append(RecapFigure(f"streams of {name}", theirs, ours_streams, span))
    if wrapped.top_track_plays is not None:
        mine_text = str(top_plays) if track else "unknown: nothing in your data names the track"
        label = f"plays of the top track, {_named(wrapped.top_tracks[:1], shown)}"
        figures.append(RecapFigure(label, str(wrapped.top_track_plays), ours_or_none(mine_text), note))
    if wrapped.top_day and wrapped.top_day_minutes is not None:
        inside = bool(first and last and first <= wrapped.top_day <= last)
        theirs_day = f"{wrapped.top_day_minutes:,.0f} min"
        ours_day = f"{day_ms / 60_000:,.0f} min" if inside else "not in our history"
        figures.append(RecapFigure(f"minutes on the most listened day, {wrapped.top_day}", theirs_day, ours_day, ""))
    unresolved = len(set(uris) - set(shown))
    explanation = _explain(scope, start, end, c_start, c_end, sources, unresolved, len(matched))
    return ServiceComparison(source, year, start, end, figures, explanation, source_file, c_start, c_end)


def _spotify_only(
    scope: Scope,
    year: int,
    wrapped: Wrapped,
    shown: dict[str, str],
    artist_names: dict[str, str],
    artist_ms: dict[str, int],
    top_track: tuple[str, str | None],
    compared: tuple[date | None, date | None],
) -> list[RecapFigure]:
    """What the file holds that Tutti does not count (genres, percentile, character, eras), as Spotify's, with
    ours beside it where we have one; a figure the file lacks is left out, never shown as 0."""
    figures: list[RecapFigure] = []
    c_start, c_end = compared
    top_artist = artist_names.get(wrapped.top_artists[0]) if wrapped.top_artists else None
    if wrapped.percentile is not None:
        theirs = f"more than {wrapped.percentile:.1f}% of listeners worldwide"
        figures.append(RecapFigure("how much you listened, against everyone on Spotify", theirs, None, "Spotify's own"))
    if wrapped.fan_share is not None and wrapped.top_artists:
        who = top_artist or "your top artist"
        theirs = f"among the top {wrapped.fan_share * 100:.2g}% of {who}'s listeners"
        figures.append(RecapFigure("how big a fan of your top artist", theirs, None, "Spotify's own"))
    if wrapped.top_artist_ms is not None:
        mine = artist_ms.get(top_artist.lower()) if top_artist and c_end else None
        ours = None if mine is None else f"{mine // 60_000:,} min"
        figures.append(
            RecapFigure(f"minutes of your top artist{', ' + top_artist if top_artist else ''}",
                        f"{wrapped.top_artist_ms // 60_000:,} min", ours, f"ours: {c_start}..{c_end}" if ours else "")
        )  # fmt: skip
    if wrapped.top_track_first is not None:
        track, artist = top_track
        row = scope.query(_TRACK_FIRST_SQL, [(artist or "").lower(), track.lower(), c_start, c_end]) if track else []
        mine_day = cast(date | None, row[0][0]) if row else None
        ours = None if mine_day is None else str(mine_day)
        note = f"ours: the first in our history, which starts {c_start}" if ours else ""
        figures.append(RecapFigure("first play of your top track", str(wrapped.top_track_first), ours, note))
    if wrapped.genres:
        count = f" (of {wrapped.genre_count:,} genres)" if wrapped.genre_count is not None else ""
        figures.append(RecapFigure("top genres", ", ".join(wrapped.genres) + count, None, "Spotify's own"))
    if wrapped.character:
        figures.append(
            RecapFigure("your listening character", wrapped.character.replace("_", " ").lower(), None, "Spotify's own")
        )
    if wrapped.podcasts:
        figures.append(RecapFigure("top podcasts", _named(wrapped.podcasts, shown), None, "Spotify's own"))
    if wrapped.top_podcast_ms is not None:
        share = (
            f", {wrapped.top_podcast_share:.0%} of your podcast time" if wrapped.top_podcast_share is not None else ""
        )
        figures.append(
            RecapFigure(
                "time on your top podcast", f"{wrapped.top_podcast_ms // 60_000:,} min{share}", None, "Spotify's own"
            )
        )
    for number, era in enumerate(wrapped.eras, start=1):
        words = ", ".join(w for w in (era.genre, era.mood, era.descriptor) if w) or None
        tracks = f"; {', '.join(era.tracks[:3])}" if era.tracks else ""
        month = date(year, era.peak_month, 1) if era.peak_month else None
        ours = None
        if month and c_start and c_end:
            last = date(month.year, month.month, monthrange(month.year, month.month)[1])
            if c_start <= month and last <= c_end:
                row = scope.query(_MONTH_TOP_SQL, [month, last])
                ours = f"most played that month: {row[0][0]}" if row else "no plays that month"
        label = f"era {number}" + (f", peak in {month:%B}" if month else "")
        figures.append(RecapFigure(label, (words or "") + tracks or None, ours, "Spotify's own; ours from your plays"))
    return figures


def _min(ms: int | None) -> int | None:
    return None if ms is None else ms // 60_000


def _explain(
    scope: Scope,
    start: date,
    end: date,
    c_start: date | None,
    c_end: date | None,
    sources: str,
    unresolved: int,
    matched: int,
) -> list[str]:
    """Why the two sides differ, in plain words, most important first."""
    period = scope.period
    reasons: list[str] = []
    if (period.start, period.end) != (start, end + timedelta(days=1)):
        reasons.append(
            f"Different windows: Spotify's window ({WINDOW_TEXT}) is not this recap's period ({period.label}); "
            f"both sides here use {start}..{end}."
        )
    if c_start is None or c_end is None:
        reasons.append(f"Our history has no plays in {start}..{end}, so nothing of ours can be compared.")
    elif (c_start, c_end) != (start, end):
        reasons.append(
            f"Our history covers only {c_start}..{c_end} of Spotify's window; Spotify's figures cover all of it"
            + (" (Spotify account data reaches back only about a year)." if "spotify_account" in sources else ".")
        )
    reasons.append(
        f"Different play rules: ours ({scope.rule.label}): {scope.rule.description}. Spotify counts a stream once "
        "30 s have played, skipped or not. Minutes are all time played on both sides."
    )
    if "spotify_account" in sources:
        reasons.append(
            "Spotify account data records only the minute a play ended, so plays at the edge of a day or a window "
            "can fall on the other side of it."
        )
    others = [s for s in sources.split(", ") if s and not s.startswith("spotify")]
    if others:
        reasons.append(f"Plays from other services ({', '.join(others)}) are in our figures, not in Spotify's.")
    reasons.append(
        "Podcasts: whether Spotify's total minutes include them the file does not say; ours include music, "
        "podcasts and audiobooks, and podcast minutes are compared on their own."
    )
    reasons.append(
        f"Days are calendar days in {scope.zones.label}; Spotify does not say which time zone its days use. "
        "Its per-artist streams come by half-month, taken here as days 1-15 and 16 to the month's end."
    )
    if matched:
        reasons.append(
            f"{matched} of Spotify's top artists, given only by ID, are named here by listening pattern: the artist "
            "whose plays per half-month in your history follow Spotify's streams of that ID closely, and clearly "
            "more closely than any other artist."
        )
    if unresolved:
        reasons.append(
            f"{unresolved} of Spotify's top artists, tracks and shows are given only as Spotify IDs that nothing in "
            "your data names (an extended streaming history or a library export with IDs would), so they cannot "
            "be matched to your plays."
        )
    return reasons
