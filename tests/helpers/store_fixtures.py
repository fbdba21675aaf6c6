"""Shared helpers for the tests of totals, top lists, clock, series, streaks and skips.

Two kinds of help:

* small synthetic stores built from ``Play`` records (``scope_of``), so every insight is tested without the
  real exports;
* plain readers of the raw sample exports (``Raw``), with the play rule, the de-duplication and the local
  time written out here, so that the tests recompute every figure without the importers, the store or SQL.
"""

from __future__ import annotations

import csv
import functools
import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.conftest import samples_path
from tutti.insights.period import Period
from tutti.insights.scope import Scope, open_scope
from tutti.insights.top import Ranked
from tutti.insights.zones import ZonePlan
from tutti.model import ContentKind, Play, PlayBatch, Source
from tutti.names import artist_key, track_key
from tutti.store import open_store
from tutti.store.ingest import import_paths, insert_items

# The default rule written out: a play counts with at least 30 s played and no skip; unknown time counts.
MIN_MS = 30_000
SKIP_REASONS = {"fwdbtn", "backbtn"}
# A music event with no time played (a scrobble) counts the median time of its track's timed plays of 30 s or
# more, else 3 min 30 s: the samples read here are single-source, so the default applies to every scrobble.
SCROBBLE_MS = 210_000
# The raw platform texts of the samples used here, and the device kind each one means.
PLATFORMS = {"android": "android", "cast": "cast", "windows": "desktop"}
T0 = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)  # a Monday


@dataclass(frozen=True)
class Raw:
    """One listening event as the raw export tells it, with the rule's verdict and the local clock."""

    start: datetime  # UTC
    ms: int | None
    kind: str
    artist: str | None
    track: str | None
    album: str | None = None
    skipped: bool | None = None
    shuffle: bool | None = None
    offline: bool | None = None
    platform: str | None = None
    country: str | None = None
    zone: str = "UTC"

    @property
    def counts(self) -> bool:
        return (self.ms is None or self.ms >= MIN_MS) and self.skipped is not True

    @property
    def played(self) -> int:
        if self.ms is None:
            return SCROBBLE_MS if self.kind == "music" else 0
        return self.ms

    @property
    def end(self) -> datetime:
        return self.start + timedelta(milliseconds=self.played)

    @functools.cached_property
    def local(self) -> datetime:
        return self.start.astimezone(ZoneInfo(self.zone)).replace(tzinfo=None)

    @functools.cached_property
    def day(self) -> date:
        return self.local.date()


# --- raw readers -------------------------------------------------------------------------------------------


def read_extended(paths: Iterable[Path]) -> list[Raw]:
    """Spotify extended history: ``ts`` is the end; incognito rows are left out; exact twins are one event."""
    distinct: dict[str, dict[str, object]] = {}
    for path in paths:
        for record in json.loads(path.read_text(encoding="utf-8")):
            if not record.get("incognito_mode"):
                distinct.setdefault(json.dumps(record, sort_keys=True), record)
    events = []
    for r in distinct.values():
        end = datetime.strptime(str(r["ts"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        ms = int(r["ms_played"])  # type: ignore[call-overload]
        is_track = r["master_metadata_track_name"] is not None
        is_episode = r["episode_name"] is not None
        reason_end = r["reason_end"]
        if r["skipped"]:
            skipped: bool | None = True
        elif reason_end:
            skipped = reason_end in SKIP_REASONS
        else:
            skipped = False if r["skipped"] is False else None
        platform = str(r["platform"])
        assert platform in PLATFORMS, f"a raw platform this test does not map yet: {platform}"
        events.append(
            Raw(
                start=end - timedelta(milliseconds=ms),
                ms=ms,
                kind="music" if is_track else "podcast" if is_episode else "unknown",
                artist=r["master_metadata_album_artist_name"] if is_track else r["episode_show_name"],  # type: ignore[arg-type]
                track=r["master_metadata_track_name"] if is_track else r["episode_name"],  # type: ignore[arg-type]
                album=r["master_metadata_album_album_name"],  # type: ignore[arg-type]
                skipped=skipped,
                shuffle=r["shuffle"],  # type: ignore[arg-type]
                offline=r["offline"],  # type: ignore[arg-type]
                platform=PLATFORMS[platform],
                country=r["conn_country"],  # type: ignore[arg-type]
            )
        )
    return events


def read_account(folder: Path) -> list[Raw]:
    """Spotify account data of the split era: ``endTime`` (UTC, to the minute) is the end of the play."""
    keys = {  # file kind -> (kind, artist key, track key, album key)
        "music": ("music", "artistName", "trackName", None),
        "podcast": ("podcast", "podcastName", "episodeName", None),
        "audiobook": ("audiobook", "authorName", "chapterName", "audiobookName"),
    }
    events = []
    for path in sorted(folder.glob("StreamingHistory_*.json")):
        kind, artist_key, track_key, album_key = keys[path.name.split("_")[1]]
        for r in json.loads(path.read_text(encoding="utf-8")):
            end = datetime.strptime(r["endTime"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
            artist, track = r[artist_key], r[track_key]
            if kind == "music":  # local files play under placeholders, which are not names
                artist = None if artist == "Unknown Artist" else artist
                track = None if track == "Unknown Track" else track
            ms = r["msPlayed"]
            album = r[album_key] if album_key else None
            events.append(Raw(end - timedelta(milliseconds=ms), ms, kind, artist, track, album))
    return events


def read_lastfm_csv(path: Path) -> list[Raw]:
    """Headerless Last.fm CSV (artist, album, track, date): the date is the start; no duration is known."""
    events = []
    with path.open(encoding="utf-8", newline="") as f:
        for artist, album, track, when in csv.reader(f):
            if not when:  # the now-playing row
                continue
            start = datetime.strptime(when, "%d %b %Y %H:%M").replace(tzinfo=UTC)
            if start.year < 2000 or not artist or not track:
                continue  # not a real play: the importer reports it as a problem
            events.append(Raw(start, None, "music", artist, track, album or None))
    return events


def name_key(field: str, text: str) -> str:
    """The key a top list groups ``field`` by: the name keys of artists and tracks, an album's name ignoring case."""
    if field == "album":
        return text.lower()
    return (track_key(text) if field == "track" else artist_key(text)) or ""


def expected_ranking(events: list[Raw], kind: str, name: str, artist: str | None, by: str) -> list[Ranked]:
    """A top list recomputed in plain Python: items grouped by name key (an album by its name ignoring case and
    its artist's key), shown under their most common spelling, only items with a play."""
    fields = [name, *([artist] if artist else [])]
    groups: dict[tuple[str, ...], list[Raw]] = {}
    for e in events:
        values: list[str | None] = [getattr(e, field) for field in fields]
        if e.kind == kind and all(v is not None for v in values):
            key = tuple(
                name_key("artist" if f == "artist" else f, v or "") for f, v in zip(fields, values, strict=True)
            )
            groups.setdefault(key, []).append(e)

    def spelling(group: list[Raw], field: str) -> str:
        counted = Counter(str(getattr(e, field)) for e in group)
        return min(counted, key=lambda text: (-counted[text], text))

    items = [
        Ranked(
            rank=0,
            name=spelling(group, name),
            artist=spelling(group, artist) if artist else None,
            ms_played=sum(e.played for e in group),
            plays=sum(e.counts for e in group),
            events=len(group),
            first_local=min(e.local for e in group),
        )
        for group in groups.values()
        if any(e.counts for e in group)
    ]

    def order(r: Ranked) -> tuple[int, int, tuple[str, ...]]:
        first, second = (r.ms_played, r.plays) if by == "time" else (r.plays, r.ms_played)
        keys = (
            (name_key("artist", r.name),)
            if artist is None
            else (name_key("artist", r.artist or ""), name_key(name, r.name))
        )
        return (-first, -second, keys)  # ties: by name key (the artist's first for tracks and albums)

    return [replace(r, rank=i) for i, r in enumerate(sorted(items, key=order), 1)]


# The real exports used here: where each one is under ../shared/samples, and how to read it raw.
SAMPLES: dict[str, tuple[tuple[str, ...], Callable[[Path], list[Raw]]]] = {
    "mica-92": (
        ("spotify-extended", "mica-92", "Streaming_History_Audio_2024_4.json"),
        lambda path: read_extended([path]),
    ),
    "hobbies-w-erin": (("spotify-account", "hobbies-w-erin", "Spotify Account Data"), read_account),
    "pingw33n": (("lastfm", "pingw33n", "lastfm_scrobbles.csv"), read_lastfm_csv),
}


def in_zone(events: Iterable[Raw], zone: str, period: str) -> list[Raw]:
    """The events whose local day falls in ``period``, seen from ``zone``."""
    bounds = Period.parse(period)
    placed = (replace(e, zone=zone) for e in events)
    return [e for e in placed if bounds.contains(e.day)]


@functools.cache
def raw_events(sample: str) -> list[Raw]:
    parts, read = SAMPLES[sample]
    return read(samples_path(*parts))


def _imported(sample: str, shared: Path) -> Path:
    """A store home holding the imported sample, built once per test session under ``shared``."""
    home = shared / "imported-samples" / sample / "home"
    done = home.parent / ".complete"
    if not done.exists():
        shutil.rmtree(home, ignore_errors=True)
        with open_store(home) as store:
            reports = import_paths(store, "me", [samples_path(*SAMPLES[sample][0])])
        assert not any(r.problems for r in reports if sample != "pingw33n"), "the sample should import cleanly"
        done.touch()
    return home


@contextmanager
def sample_scope(tmp_path: Path, sample: str, period: str, zone: str) -> Iterator[tuple[Scope, list[Raw]]]:
    """The sample imported into a store of this test, a scope over ``period`` in ``zone``, and its raw events."""
    samples_path(*SAMPLES[sample][0])  # skips the test where the samples are absent
    home = tmp_path / "home"
    shutil.copytree(_imported(sample, tmp_path.parent), home)  # tmp_path.parent: this session's folder
    with open_store(home) as store:
        scope = open_scope(store, "me", Period.parse(period), zones=ZonePlan.single(zone))
        try:
            yield scope, in_zone(raw_events(sample), zone, period)
        finally:
            scope.close()


# --- synthetic stores --------------------------------------------------------------------------------------


def play(
    minutes: float,
    ms: int | None = 180_000,
    artist: str | None = "Artist",
    track: str | None = "Track",
    *,
    album: str | None = None,
    kind: ContentKind = ContentKind.MUSIC,
    skipped: bool | None = None,
    shuffle: bool | None = None,
    offline: bool | None = None,
    country: str | None = None,
    start: datetime = T0,
) -> Play:
    """A play starting ``minutes`` after ``start`` (Monday 2024-03-04 12:00 UTC unless told)."""
    began = start + timedelta(minutes=minutes)
    return Play(
        Source.LASTFM if ms is None else Source.SPOTIFY_EXTENDED,
        "synthetic.json",
        0,
        start_utc=began,
        end_utc=None if ms is None else began + timedelta(milliseconds=ms),
        ms_played=ms,
        track=track,
        artist=artist,
        album=album,
        content_kind=kind,
        skipped=skipped,
        shuffle=shuffle,
        offline=offline,
        country=country,
    )


@contextmanager
def scope_of(plays: Sequence[Play], period: str = "all", zone: str = "UTC") -> Iterator[Scope]:
    """A scope over an in-memory store holding ``plays`` (numbered in order) for the profile 'me'."""
    numbered = [replace(p, record_index=i) for i, p in enumerate(plays)]
    with open_store(memory=True) as store:
        with store.transaction():
            store.ensure_profile("me")
            insert_items(store, "me", "synthetic", [PlayBatch.from_plays("synthetic.json", numbered)])
        scope = open_scope(store, "me", Period.parse(period), zones=ZonePlan.single(zone))
        try:
            yield scope
        finally:
            scope.close()
