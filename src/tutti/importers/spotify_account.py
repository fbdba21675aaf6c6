"""Spotify "Account data": ``StreamingHistory*.json`` plays, with the library, playlists and Wrapped recaps.

Two eras exist. Old exports (``MyData/StreamingHistoryN.json``, 2019-2022) mix podcast episodes into the
music rows with no flag, as artist = show and track = episode. New exports (``Spotify Account Data/``, 2023+)
split music, podcast and audiobook plays into ``StreamingHistory_{music,podcast,audiobook}_N.json``. Every
record gives ``endTime``, the end of the play in UTC to the minute, and ``msPlayed``.

The same export holds files about the listener (Userdata, Payments, UserAddress, ...). They are never claimed:
``sniff`` accepts only the shapes below, and none of those files has one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from tutti import model
from tutti.errors import ExportError
from tutti.importers import spotify_library
from tutti.importers._archive import Entry
from tutti.importers._json import load_json_array
from tutti.importers._personal import PERSONAL_FILES
from tutti.importers.options import ReadOptions
from tutti.model import (
    ContentKind,
    ImportItem,
    LibraryItem,
    LibraryKind,
    Noted,
    Play,
    Playlist,
    ProblemKind,
    RecordRefused,
    Source,
)

NAME = "spotify_account"
DESCRIPTION = "Spotify account data: StreamingHistory*.json, YourLibrary.json, Playlist*.json, Wrapped*.json"

# FORMATS: in old exports "values over 1 h are podcasts"; no song in those samples plays that long.
PODCAST_MIN_MS = 3_600_000
# Local files play under these placeholders; the play is real, the names are not.
UNKNOWN_ARTIST = "Unknown Artist"
UNKNOWN_TRACK = "Unknown Track"
PLACEHOLDER_NOTE = (
    f"plays of local files, kept without the placeholder names '{UNKNOWN_ARTIST}' and '{UNKNOWN_TRACK}' "
    "(they count in time and plays, never as an artist or a track)"
)
_END_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")


class _FileKind(Enum):
    PLAYS = "plays"
    LIBRARY = "library"
    PLAYLISTS = "playlists"
    RECAP = "recap"


# The first key of each object-shaped file, followed by the opening of its value.
_OBJECT_FILES: tuple[tuple[re.Pattern[str], _FileKind], ...] = (
    (re.compile(r'\{\s*"tracks"\s*:\s*\[\s*(\]|\{\s*"(artist|album|track|uri)"\s*:)'), _FileKind.LIBRARY),
    (re.compile(r'\{\s*"playlists"\s*:\s*\[\s*(\]|\{\s*"\w+"\s*:)'), _FileKind.PLAYLISTS),
    (re.compile(r'\{\s*"(topArtists|yearlyMetrics|topGenres|topTracks|topPodcasts)"\s*:'), _FileKind.RECAP),
)


def _file_kind(head: bytes, name: str) -> _FileKind | None:
    """What an account-data file holds, judged by its first bytes; ``None`` for anything else."""
    text = head.decode("utf-8", errors="replace").lstrip()
    if text.startswith("["):
        rest = text[1:].lstrip()
        if rest.startswith("]"):
            # An empty array says nothing about itself; only then does the name decide.
            return _FileKind.PLAYS if name.rsplit("/", 1)[-1].startswith("StreamingHistory") else None
        try:
            first, _ = json.JSONDecoder().raw_decode(rest)
        except ValueError:
            return None
        if isinstance(first, dict) and "endTime" in first and "msPlayed" in first:
            return _FileKind.PLAYS
        return None
    for pattern, kind in _OBJECT_FILES:
        if pattern.match(text):
            return kind
    return None


def sniff(head: bytes, name: str) -> bool:
    return _file_kind(head, name) is not None


@dataclass(frozen=True)
class _Shape:
    """Which keys of a streaming record hold the track, artist and album for one kind of content."""

    kind: ContentKind
    track: str
    artist: str
    album: str | None = None


# Told apart by their keys, never by file name.
_SHAPES = (
    _Shape(ContentKind.PODCAST, track="episodeName", artist="podcastName"),
    _Shape(ContentKind.AUDIOBOOK, track="chapterName", artist="authorName", album="audiobookName"),
    _Shape(ContentKind.MUSIC, track="trackName", artist="artistName"),
)


def _text(record: dict[str, Any], key: str | None) -> str | None:
    value = record.get(key) if key else None
    if value is None or isinstance(value, str):
        return value or None
    raise RecordRefused(ProblemKind.WRONG_TYPE, f"{key} should be text, not {type(value).__name__}")


def _play(entry: Entry, index: int, record: Any, options: ReadOptions) -> Play:
    if not isinstance(record, dict):
        raise RecordRefused(ProblemKind.UNREADABLE, f"should be an object, not {type(record).__name__}")
    shape = next((s for s in _SHAPES if s.track in record or s.artist in record), None)
    if shape is None:
        raise RecordRefused(ProblemKind.MISSING_FIELD, "names no track, episode or audiobook chapter")
    end_raw = record.get("endTime")
    if end_raw is None:
        raise RecordRefused(ProblemKind.MISSING_FIELD, "has no endTime")
    if not isinstance(end_raw, str) or not _END_TIME.fullmatch(end_raw):
        raise RecordRefused(ProblemKind.INVALID_TIME, f"endTime {end_raw!r} is not of the form YYYY-MM-DD HH:MM")
    try:
        end = datetime.fromisoformat(end_raw).replace(tzinfo=UTC)
    except ValueError as exc:
        raise RecordRefused(ProblemKind.INVALID_TIME, f"endTime {end_raw!r} is not a real date") from exc
    ms = record.get("msPlayed")
    if ms is None:
        raise RecordRefused(ProblemKind.MISSING_FIELD, "has no msPlayed")
    if isinstance(ms, bool) or not isinstance(ms, int):
        raise RecordRefused(ProblemKind.WRONG_TYPE, f"msPlayed {ms!r} is not a whole number")
    model.check_plausible(end, ms, now=options.now)
    track, artist = _text(record, shape.track), _text(record, shape.artist)
    if shape.kind is ContentKind.MUSIC:
        # Local files: keep the play (it happened, msPlayed is real) but not the placeholder as a name,
        # so that "Unknown Artist" never tops a chart. They are songs, hence MUSIC.
        artist = None if artist == UNKNOWN_ARTIST else artist
        track = None if track == UNKNOWN_TRACK else track
    return Play(
        source=Source.SPOTIFY_ACCOUNT,
        source_file=entry.path,
        record_index=index,
        end_utc=end,
        ms_played=ms,
        time_precision=model.TimePrecision.MINUTE,
        track=track,
        artist=artist,
        album=_text(record, shape.album),
        content_kind=shape.kind,
    )


def _read_plays(entry: Entry, options: ReadOptions) -> tuple[list[Play], list[ImportItem]]:
    """A file's plays, and its problems and notes."""
    plays: list[Play] = []
    said: list[ImportItem] = []
    placeholders = 0
    for index, record in enumerate(load_json_array(entry)):
        try:
            plays.append(_play(entry, index, record, options))
        except RecordRefused as refused:
            said.append(refused.at(entry.path, f"record {index}"))
            continue
        if record.get("artistName") == UNKNOWN_ARTIST or record.get("trackName") == UNKNOWN_TRACK:
            placeholders += 1
    if placeholders:
        said.append(Noted(entry.path, PLACEHOLDER_NOTE, placeholders))
    return plays, said


def _classify_podcasts(plays: list[Play], podcast_names: set[str]) -> list[Play]:
    return [
        replace(p, content_kind=ContentKind.PODCAST)
        if p.artist is not None and p.artist.casefold() in podcast_names
        else p
        for p in plays
    ]


def read(entries: Sequence[Entry], options: ReadOptions) -> Iterator[ImportItem]:
    """Library, playlists and recaps first (their show names classify old plays), then plays file by file.

    Problems name the record by its 0-based position in the file, the same number as ``Play.record_index``.
    """

    by_kind: dict[_FileKind, list[Entry]] = {kind: [] for kind in _FileKind}
    for entry in entries:
        if entry.basename.lower() in PERSONAL_FILES:
            continue
        kind = _file_kind(entry.head(), entry.name)
        if kind is None:
            raise ExportError(entry.path, "is not a file of Spotify account data")
        by_kind[kind].append(entry)

    show_names: set[str] = set()
    for entry in by_kind[_FileKind.LIBRARY]:
        for item in spotify_library.read_library(entry):
            if isinstance(item, LibraryItem) and item.kind is LibraryKind.SHOW and item.name:
                show_names.add(item.name.casefold())
            elif isinstance(item, LibraryItem) and item.kind is LibraryKind.EPISODE and item.artist:
                show_names.add(item.artist.casefold())
            yield item
    for entry in by_kind[_FileKind.PLAYLISTS]:
        for playlist in spotify_library.read_playlists(entry):
            if isinstance(playlist, Playlist):
                show_names.update(
                    e.artist.casefold() for e in playlist.entries if e.content_kind is ContentKind.PODCAST and e.artist
                )
            yield playlist
    for entry in by_kind[_FileKind.RECAP]:
        yield spotify_library.read_recap(entry)

    files = [(entry, *_read_plays(entry, options)) for entry in by_kind[_FileKind.PLAYS]]
    # Music-shaped records look the same in both eras. An export is of the new, split era when any of its
    # files holds podcast or audiobook records; a "_music_" file name says so too (a new export without
    # podcasts). Only old-era music may hide podcasts: a new-era song can well play for over an hour.
    split = any(p.content_kind is not ContentKind.MUSIC for _, plays, _ in files for p in plays)
    old_era = [not split and "_music_" not in entry.basename for entry, _, _ in files]
    long_played = {
        p.artist.casefold()
        for (_, plays, _), old in zip(files, old_era, strict=True)
        if old
        for p in plays
        if p.artist and (p.ms_played or 0) > PODCAST_MIN_MS
    }
    for (entry, plays, said), old in zip(files, old_era, strict=True):
        yield from said
        yield from model.batches(entry.path, _classify_podcasts(plays, show_names | long_played) if old else plays)
