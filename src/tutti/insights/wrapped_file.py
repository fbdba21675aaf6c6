"""Spotify's own yearly summary file (``Wrapped20XX.json``) read into typed fields, each None or empty when the
file lacks it: a missing figure is missing, never 0.

Seen in real files: 2023 has ``topArtists`` (URIs, streams by half-month, the top artist's time and the share of
its listeners the listener is ahead of), ``topGenres``, ``topPodcasts``, ``topTracks``, ``yearlyMetrics`` (with the
percentile "listened more than X% of listeners worldwide") and ``darkMode.creatureOfHabit`` (a one-word listening
character); 2024 replaces ``darkMode`` with ``musicEvolution.eras`` (a peak month, genre, mood, descriptor and
tracks per era). Unknown keys are ignored; a file that is not JSON reads as holding nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Wrapped:
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
    genres: list[str]
    genre_count: int | None
    percentile: float | None  # "listened more than X% of listeners worldwide"
    fan_share: float | None  # the top artist's listeners: the listener is among the top ``fan_share`` of them
    top_artist_ms: int | None
    character: str | None  # Spotify's one-word listening character (2023: darkMode.creatureOfHabit)
    podcasts: list[str]  # show URIs
    top_podcast_ms: int | None
    top_podcast_share: float | None
    top_track_first: date | None
    eras: list[WrappedEra]


@dataclass(frozen=True)
class WrappedEra:
    """One of the eras of Spotify's 2024 file (``musicEvolution.eras``)."""

    peak_month: int | None  # 1-12
    genre: str | None
    mood: str | None
    descriptor: str | None
    tracks: list[str]  # names or URIs as the file gives them


def _at(data: Any, *path: str) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _number(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _real(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _eras(data: Any) -> list[WrappedEra]:
    """The 2024 eras; ``peakMonth`` counts from 0 (January), as the real files read by others do, unless a 12
    shows it counts from 1."""
    raw = [e for e in _list(_at(data, "musicEvolution", "eras")) if isinstance(e, dict)]
    months = [_number(e.get("peakMonth")) for e in raw]
    shift = 0 if 12 in months else 1
    eras = []
    for era, month in zip(raw, months, strict=True):
        tracks = []
        for track in _list(era.get("tracks")):
            name = _text(track) or _text(_at(track, "trackName")) or _text(_at(track, "trackUri"))
            artist = _text(_at(track, "artistName"))
            if name:
                tracks.append(f"{name} ({artist})" if artist else name)
        peak = month + shift if month is not None and 1 <= month + shift <= 12 else None
        genre, mood, descriptor = (_text(era.get(k)) for k in ("genre", "mood", "descriptor"))
        eras.append(WrappedEra(peak, genre, mood, descriptor, tracks))
    return eras


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def read_wrapped(raw_json: str) -> Wrapped:
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
    return Wrapped(
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
        genres=[g for g in (_text(g) for g in _list(_at(data, "topGenres", "topGenres"))) if g],
        genre_count=_number(_at(data, "topGenres", "numberGenres")),
        percentile=_real(_at(data, "yearlyMetrics", "percentGreaterThanWorldwideUsers")),
        fan_share=_real(_at(data, "topArtists", "topArtistFanPercentage")),
        top_artist_ms=_number(_at(data, "topArtists", "topArtistMilliseconds")),
        character=_text(_at(data, "darkMode", "creatureOfHabit")),
        podcasts=[str(u) for u in _list(_at(data, "topPodcasts", "topPodcastsUri"))],
        top_podcast_ms=_number(_at(data, "topPodcasts", "topPodcastMilliseconds")),
        top_podcast_share=_real(_at(data, "topPodcasts", "topPodcastPercentage")),
        top_track_first=_day(_at(data, "topTracks", "topTrackFirstPlayedDate")),
        eras=_eras(data),
    )
