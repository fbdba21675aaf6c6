"""Spotify's own yearly summary (its Wrapped20XX.json, stored verbatim) set beside our figures.

Spotify's window runs from 1 January to about mid-November, when it stops collecting data; the file does not
give the cut-off, so ``window_end`` is taken as 15 November (its per-artist stream counts, by half-month, run to
the first half of November). Ours are computed over the same window, restricted to the days our history
covers (``compared_start``..``compared_end``), whatever the period of the recap. Spotify names its top artists
and tracks only by URI: they are named here when something in the store gives that URI a name (extended
streaming history, a library or playlist export with URIs), and marked as not resolvable otherwise.
"""

from __future__ import annotations

import json
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from tutti.insights.scope import Scope

WINDOW_END = (11, 15)  # assumed: the file does not say when Spotify stopped counting
WINDOW_TEXT = "1 Jan to mid-November; the file does not give the cut-off"
TOP_N = 5


@dataclass(frozen=True)
class RecapFigure:
    name: str
    theirs: str
    ours: str
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


@dataclass(frozen=True)
class _Wrapped:
    """The fields of a Wrapped file that can be compared; each is None (or empty) when the file lacks it."""

    total_ms: int | None
    podcast_ms: int | None
    unique_artists: int | None
    distinct_tracks: int | None
    top_artists: list[str]  # artist URIs
    streams: dict[str, dict[tuple[int, int], int]]  # artist URI -> (month, half of month) -> streams
    top_tracks: list[str]  # track URIs
    top_track_plays: int | None
    top_day: date | None
    top_day_minutes: float | None


def _at(data: Any, *path: str) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _number(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _read_wrapped(raw_json: str) -> _Wrapped:
    try:
        data = json.loads(raw_json)
    except ValueError:
        data = None  # kept verbatim but unreadable: every figure of theirs shows as missing
    artists = [a for a in _list(_at(data, "topArtists", "topArtists")) if isinstance(a, dict)]
    streams: dict[str, dict[tuple[int, int], int]] = {}
    for artist in artists:
        halves = streams.setdefault(str(artist.get("artistUri")), {})
        for month in _list(artist.get("monthlyStreams")):
            for half in _list(_at(month, "biweeklyStreams")):
                key = (_number(_at(month, "month")) or 0, _number(_at(half, "period")) or 0)
                halves[key] = halves.get(key, 0) + (_number(_at(half, "numStreams")) or 0)
    minutes = _at(data, "yearlyMetrics", "mostListenedDayMinutes")
    return _Wrapped(
        total_ms=_number(_at(data, "yearlyMetrics", "totalMsListened")),
        podcast_ms=_number(_at(data, "topPodcasts", "totalPodcastMilliseconds")),
        unique_artists=_number(_at(data, "topArtists", "numUniqueArtists")),
        distinct_tracks=_number(_at(data, "topTracks", "distinctTracksPlayed")),
        top_artists=[str(a.get("artistUri")) for a in artists],
        streams=streams,
        top_tracks=[str(t) for t in _list(_at(data, "topTracks", "topTracks"))],
        top_track_plays=_number(_at(data, "topTracks", "topTrackPlayCount")),
        top_day=_day(_at(data, "yearlyMetrics", "mostListenedDay")),
        top_day_minutes=float(minutes) if _number(minutes) is not None else None,
    )


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

# Our top artists and tracks by plays, and the plays of named artists by half-month (days 1-15, 16-end).
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
    SELECT 'half' AS level, lower(artist) AS name, month(local_date) AS month,
           CASE WHEN day(local_date) <= 15 THEN 1 ELSE 2 END AS half, count(*) AS plays, sum(ms) AS ms
    FROM music WHERE list_contains(?, lower(artist)) GROUP BY ALL
)
SELECT level, name, month, half, plays FROM (
    SELECT * FROM artists UNION ALL SELECT * FROM tracks UNION ALL SELECT * FROM halves
)
"""


def _shown(value: int | None, unit: str = "") -> str:
    return "not in the file" if value is None else f"{value:,}{unit}"


def _named(uris: list[str], names: dict[str, tuple[str, str | None]]) -> str:
    shown = [f"{names[u][0]} ({names[u][1]})" if u in names and names[u][1] else names.get(u, (u,))[0] for u in uris]
    return ", ".join(shown) or "not in the file"


def _halves(year: int, first: date, last: date) -> list[tuple[int, int, date, date]]:
    """The half-months (month, half, first day, last day) of ``year`` wholly inside first..last."""
    ranges = [(m, 1, date(year, m, 1), date(year, m, 15)) for m in range(1, 13)]
    ranges += [(m, 2, date(year, m, 16), date(year, m, monthrange(year, m)[1])) for m in range(1, 13)]
    return sorted(r for r in ranges if first <= r[2] and r[3] <= last)


def compare_service_recaps(scope: Scope) -> list[ServiceComparison]:
    """Every stored Wrapped file of the profile whose year overlaps the period, beside our own figures."""
    period = scope.period
    recaps = scope.store.con.execute(
        "SELECT source, source_file, year, raw_json FROM service_recaps WHERE profile = ? ORDER BY year, source_file",
        [scope.profile],
    ).fetchall()
    return [
        _compare(scope, source, source_file, year, _read_wrapped(raw))
        for source, source_file, year, raw in recaps
        if (period.start is None or period.start < date(year + 1, 1, 1))
        and (period.end is None or period.end > date(year, 1, 1))
    ]


def _compare(scope: Scope, source: str, source_file: str, year: int, wrapped: _Wrapped) -> ServiceComparison:
    start, end = date(year, 1, 1), date(year, *WINDOW_END)
    uris = wrapped.top_artists + wrapped.top_tracks
    resolved = scope.store.con.execute(_NAMES_SQL, {"profile": scope.profile, "uris": uris}).fetchall()
    names: dict[str, tuple[str, str | None]] = {uri: (name, artist) for uri, name, artist in resolved}
    track, track_artist = names.get(wrapped.top_tracks[0] if wrapped.top_tracks else "", ("", None))
    facts = scope.query(_FACTS_SQL, [start, end, (track_artist or "").lower(), track.lower(), wrapped.top_day])[0]
    first, last, ms, podcast_ms, artists, tracks, day_ms, top_plays, sources = cast(
        tuple[date | None, date | None, int, int, int, int, int, int, str], facts
    )
    c_start = max(start, first) if first and last and first <= end and last >= start else None
    c_end = min(end, last) if c_start and last else None
    artist_names = {u: names[u][0] for u in wrapped.top_artists if u in names}
    tops = scope.query(_TOPS_SQL, [c_start, c_end, [n.lower() for n in artist_names.values()]]) if c_end else []
    ours = {level: ", ".join(str(r[1]) for r in tops if r[0] == level) or "none" for level in ("artist", "track")}
    halves = {(r[1], r[2], r[3]): cast(int, r[4]) for r in tops if r[0] == "half"}
    same = (c_start, c_end) == (start, end)
    ours_span = f"{c_start}..{c_end}" if c_start else "no plays in the window"
    note = "same window" if same else f"Spotify: {start}..{end}; ours: {ours_span}"
    figures = [
        RecapFigure("minutes listened", _shown(_min(wrapped.total_ms), " min"), f"{ms // 60_000:,} min", note),
        RecapFigure("podcast minutes", _shown(_min(wrapped.podcast_ms), " min"), f"{podcast_ms // 60_000:,} min", note),
        RecapFigure("different artists", _shown(wrapped.unique_artists), f"{artists:,}", note + "; music"),
        RecapFigure("different tracks", _shown(wrapped.distinct_tracks), f"{tracks:,}", note + "; music"),
        RecapFigure("top artists", _named(wrapped.top_artists, names), ours["artist"], note + "; ours by plays"),
        RecapFigure("top tracks", _named(wrapped.top_tracks, names), ours["track"], note + "; ours by plays"),
    ]
    whole = _halves(year, c_start, c_end) if c_start and c_end else []
    for uri, name in artist_names.items() if whole else ():
        theirs = sum(wrapped.streams.get(uri, {}).get((m, h), 0) for m, h, _, _ in whole)
        mine = sum(halves.get((name.lower(), m, h), 0) for m, h, _, _ in whole)
        span = f"the half-months wholly in our history, {whole[0][2]}..{whole[-1][3]}"
        figures.append(RecapFigure(f"streams of {name}", str(theirs), str(mine), span))
    if wrapped.top_track_plays is not None:
        mine_text = str(top_plays) if track else "unknown: nothing in the store names the track's URI"
        label = f"plays of the top track, {_named(wrapped.top_tracks[:1], names)}"
        figures.append(RecapFigure(label, str(wrapped.top_track_plays), mine_text, note))
    if wrapped.top_day and wrapped.top_day_minutes is not None:
        inside = bool(first and last and first <= wrapped.top_day <= last)
        theirs_day = f"{wrapped.top_day_minutes:,.0f} min"
        ours_day = f"{day_ms / 60_000:,.0f} min" if inside else "outside our history"
        figures.append(RecapFigure(f"minutes on the most listened day, {wrapped.top_day}", theirs_day, ours_day, ""))
    unresolved = len(set(uris) - set(names))
    explanation = _explain(scope, start, end, c_start, c_end, sources, unresolved)
    return ServiceComparison(source, year, start, end, figures, explanation, source_file, c_start, c_end)


def _min(ms: int | None) -> int | None:
    return None if ms is None else ms // 60_000


def _explain(
    scope: Scope, start: date, end: date, c_start: date | None, c_end: date | None, sources: str, unresolved: int
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
    if unresolved:
        reasons.append(
            f"{unresolved} of Spotify's top artists and tracks are given only as Spotify URIs that nothing in this "
            "store names (an extended streaming history or a library export with URIs would), so they cannot be "
            "matched to our plays."
        )
    return reasons
