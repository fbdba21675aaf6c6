"""Shared helpers for the tests of discoveries, obsessions, comebacks, eras and service recaps.

Two kinds: small synthetic stores built from ``Play`` records, and plain readers of the raw sample exports
that turn each record into a ``RawPlay`` with the play rule and the local time written out here, so that
the tests recompute every figure without the importers or the store.
"""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.conftest import samples_path
from tutti.insights.period import Period
from tutti.insights.scope import Scope, open_scope
from tutti.insights.zones import ZonePlan
from tutti.model import ContentKind, Play, PlayBatch, Source, TimePrecision
from tutti.store import Store, open_store
from tutti.store.ingest import import_paths, insert_items

MIN_MS = 30_000  # the default rule: at least 30 s played and not skipped; scrobbles (no duration) always count
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True)
class RawPlay:
    local: datetime  # wall clock at the start of the play, naive
    artist: str | None
    track: str | None
    kind: str
    ms: int | None
    counts: bool

    @property
    def day(self) -> date:
        return self.local.date()


def local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def in_period(day: date, period: str) -> bool:
    return Period.parse(period).contains(day)


# --- raw sample readers ------------------------------------------------------------------------------------


def lastfm_no_header(path: Path, zone: str) -> list[RawPlay]:
    """``artist,album,track,date`` rows, newest first; rows with an empty date are the now-playing track."""
    plays = []
    with path.open(encoding="utf-8", newline="") as handle:
        for artist, _album, track, when in csv.reader(handle):
            if not when:
                continue
            day, month, year, clock = when.split(" ")
            hour, minute = clock.split(":")
            start = datetime(int(year), MONTHS.index(month.lower()) + 1, int(day), int(hour), int(minute), tzinfo=UTC)
            plays.append(RawPlay(local(start, zone), artist, track, "music", None, True))
    return plays


def spotify_account(folder: Path, zone: str) -> list[RawPlay]:
    """StreamingHistory files: ``endTime`` is the end of the play in UTC; the start is ``msPlayed`` earlier.

    Podcasts: new exports keep them in their own files (``podcastName``); old exports mix them into the music
    rows, where a name counts as a show when the library or a playlist lists it as one, or when any of its
    plays lasted over an hour. "Unknown Artist"/"Unknown Track" are local files with no real name.
    """
    records = [r for f in sorted(folder.rglob("StreamingHistory*.json")) for r in json.loads(f.read_text("utf-8"))]
    split = any("podcastName" in r or "audiobookName" in r for r in records) or any(
        "_music_" in f.name for f in folder.rglob("StreamingHistory*.json")
    )
    shows: set[str] = set()
    if not split:
        for library in folder.rglob("YourLibrary.json"):
            data = json.loads(library.read_text("utf-8"))
            shows |= {s["name"].casefold() for s in data.get("shows", [])}
            shows |= {e["show"].casefold() for e in data.get("episodes", []) if e.get("show")}
        for playlists in folder.rglob("Playlist*.json"):
            for playlist in json.loads(playlists.read_text("utf-8"))["playlists"]:
                shows |= {i["episode"]["showName"].casefold() for i in playlist["items"] if i.get("episode")}
        shows |= {r["artistName"].casefold() for r in records if r["msPlayed"] > 3_600_000}
    plays = []
    for r in records:
        end = datetime.fromisoformat(r["endTime"]).replace(tzinfo=UTC)
        start = end - timedelta(milliseconds=r["msPlayed"])
        if "podcastName" in r:
            kind, artist, track = "podcast", r["podcastName"], r["episodeName"]
        elif "audiobookName" in r:
            kind, artist, track = "audiobook", r["authorName"], r["chapterName"]
        else:
            artist = None if r["artistName"] == "Unknown Artist" else r["artistName"]
            track = None if r["trackName"] == "Unknown Track" else r["trackName"]
            kind = "podcast" if artist and artist.casefold() in shows else "music"
        plays.append(RawPlay(local(start, zone), artist, track, kind, r["msPlayed"], r["msPlayed"] >= MIN_MS))
    return plays


def sample_store(*parts: str) -> Store:
    """An in-memory store holding one sample export (imported once per test session)."""
    return _imported_store(samples_path(*parts))


@functools.cache
def _imported_store(path: Path) -> Store:
    store = open_store(memory=True)
    import_paths(store, "me", [path])
    return store


# --- synthetic stores ------------------------------------------------------------------------------------


def song(
    artist: str | None,
    track: str | None,
    start: datetime,
    ms: int | None = 200_000,
    skipped: bool | None = None,
    kind: ContentKind = ContentKind.MUSIC,
) -> Play:
    """A second-precision play starting at ``start`` (UTC)."""
    return Play(
        source=Source.SPOTIFY_EXTENDED,
        source_file="synthetic.json",
        record_index=0,
        start_utc=start,
        end_utc=start + timedelta(milliseconds=ms or 0),
        ms_played=ms,
        time_precision=TimePrecision.SECOND,
        track=track,
        artist=artist,
        content_kind=kind,
        skipped=skipped,
    )


def synthetic_store(plays: Sequence[Play]) -> Store:
    store = open_store(memory=True)
    numbered = [replace(p, record_index=i) for i, p in enumerate(plays)]
    with store.transaction():
        store.ensure_profile("me")
        insert_items(store, "me", "synthetic", [PlayBatch.from_plays("synthetic.json", numbered)])
    return store


@contextmanager
def scoped(store: Store, period: str, zone: str = "UTC") -> Iterator[Scope]:
    scope = open_scope(store, "me", Period.parse(period), zones=ZonePlan.single(zone))
    try:
        yield scope
    finally:
        scope.close()


def utc(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
