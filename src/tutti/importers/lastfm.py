"""Last.fm scrobbles, in the four shapes people export them in, told apart by content.

1. ``artist,album,track,date`` CSV with no header (lastfm-to-csv), ``date`` like ``20 Nov 2020 09:35``.
2. ``uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid`` CSV, usually every field quoted.
3. ``lastexport.py`` TSV: ``uts, track, artist, album, track_mbid, artist_mbid, album_mbid``, no header.
4. API ``user.getRecentTracks`` JSON: one page ``{"recenttracks": {"track": [...]}}``, an array of pages, or
   a bare array of track objects.

A scrobble marks when a track started; there is no played duration. Files are newest first; ``record_index``
keeps the file position, and adjacent identical rows (real repeats, or minute truncation) are all kept. The
now-playing entry (empty date in the CSV, once per 200-row page; ``@attr.nowplaying`` in the API) is skipped.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, NamedTuple

from tutti.errors import ExportError
from tutti.importers._archive import Entry
from tutti.importers._json import load_json
from tutti.importers.options import ReadOptions
from tutti.model import (
    ContentKind,
    ImportItem,
    ImportProblem,
    Play,
    ProblemKind,
    RecordRefused,
    Skipped,
    Source,
    TimePrecision,
    batches,
    check_plausible,
    utc_from_unix,
)

NAME = "lastfm"
DESCRIPTION = "Last.fm scrobbles (CSV with or without header, lastexport.py TSV, API recent-tracks JSON)"

NOW_PLAYING = "now playing"
UTS_HEADER = ("uts", "utc_time", "artist", "artist_mbid", "album", "album_mbid", "track", "track_mbid")

# "20 Nov 2020 09:35" (no-header CSV) and "11 Jul 2024, 09:07" (utc_time, API "#text"); always English
# month names, so they are matched here rather than with the locale-dependent strptime("%b").
_DATE = re.compile(r"([0-9]{1,2}) ([A-Za-z]{3}) ([0-9]{4}),? ([0-9]{1,2}):([0-9]{2})")
_DIGITS = re.compile(r"[0-9]{1,11}")  # more would overflow datetime
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, start=1)}


class _Shape(Enum):
    NO_HEADER_CSV = "no-header CSV"
    UTS_CSV = "uts/utc_time CSV"
    TSV = "lastexport.py TSV"
    API_JSON = "API recent-tracks JSON"


def sniff(head: bytes, name: str) -> bool:
    return _shape(head) is not None


def read(entries: Sequence[Entry], options: ReadOptions) -> Iterator[ImportItem]:
    for entry in entries:
        yield from _read_file(entry, options)


def _shape(head: bytes) -> _Shape | None:
    text = head.decode("utf-8", errors="replace")
    lines = [line for line in io.StringIO(text, newline="") if line.strip()]
    if len(lines) > 1 and not lines[-1].endswith(("\n", "\r")):
        lines.pop()  # cut off by the end of the head
    if not lines:
        return None
    first = lines[0].rstrip("\r\n")
    if tuple(f.strip().strip('"').lower() for f in first.split(",")) == UTS_HEADER:
        return _Shape.UTS_CSV
    cells = first.split("\t")
    if 4 <= len(cells) <= 7 and _DIGITS.fullmatch(cells[0]):
        return _Shape.TSV
    if _looks_like_no_header_csv(lines[:10]):
        return _Shape.NO_HEADER_CSV
    return _Shape.API_JSON if _looks_like_api_json(text) else None


def _looks_like_no_header_csv(lines: list[str]) -> bool:
    rows = list(csv.reader(lines))  # not strict: a head of a few KB cannot make it raise
    if not rows or any(len(row) != 4 for row in rows):
        return False
    # The top row is often the now-playing one, with an empty date; every other date must parse.
    dates = [row[3] for row in rows]
    return all(not d or _DATE.fullmatch(d) for d in dates) and any(dates)


def _looks_like_api_json(text: str) -> bool:
    start = text.lstrip()
    if start.startswith("{"):
        return '"recenttracks"' in start
    if not re.match(r"\[\s*[\[{]", start):
        return False
    # A saved page of tracks: the artist as {"#text": ...} and an album set it apart from loved/top tracks.
    keys = ('"#text"', '"artist"', '"album"', '"name"')
    return '"recenttracks"' in start or all(k in start for k in keys)


class _Scrobble(NamedTuple):
    start: datetime
    precision: TimePrecision
    artist: str | None
    album: str | None
    track: str | None
    recording_mbid: str | None = None
    artist_mbid: str | None = None
    release_mbid: str | None = None


def _read_file(entry: Entry, options: ReadOptions) -> Iterator[ImportItem]:
    shape = _shape(entry.head())
    if shape is None:
        raise ExportError(entry.path, "is not a Last.fm export (no known CSV, TSV or JSON shape)")
    problems: list[ImportProblem] = []
    now_playing = 0

    def plays() -> Iterator[Play]:
        nonlocal now_playing
        # record_index counts every record, now-playing and unreadable ones too: it is the file position.
        for index, (label, raw) in enumerate(_raw_records(entry, shape)):
            try:
                scrobble = _CONVERTERS[shape](raw)
                if scrobble is None:
                    now_playing += 1
                else:
                    yield _play(entry, index, scrobble, options)
            except RecordRefused as refused:
                problems.append(refused.at(entry.path, label))

    yield from batches(entry.path, plays())
    yield from problems
    if now_playing:
        yield Skipped(entry.path, NOW_PLAYING, now_playing)


def _raw_records(entry: Entry, shape: _Shape) -> Iterator[tuple[str, Any]]:
    """Each record of the file with the name a problem report gives it; blank lines are not records."""
    if shape is _Shape.API_JSON:
        for index, element in enumerate(_api_tracks(entry, load_json(entry))):
            yield f"record {index}", element
        return
    lines = io.StringIO(entry.read_text(), newline="")
    if shape is _Shape.TSV:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                # lastexport.py writes tabs with no quoting, so quotes in titles are plain text.
                yield f"line {number}", line.rstrip("\r\n").split("\t")
        return
    reader = csv.reader(lines)
    header_pending = shape is _Shape.UTS_CSV
    try:
        for row in reader:
            if row and not header_pending:
                yield f"line {reader.line_num}", row
            header_pending = header_pending and not row  # the header is the first non-blank row
    except csv.Error as exc:
        raise ExportError(entry.path, f"line {reader.line_num} is not readable as CSV ({exc})") from exc


def _from_no_header_csv(row: list[str]) -> _Scrobble | None:
    if len(row) != 4:
        raise RecordRefused(ProblemKind.UNREADABLE, f"has {len(row)} fields, expected 4 (artist, album, track, date)")
    artist, album, track, date = row
    if not date:
        return None  # the now-playing row
    return _Scrobble(_parse_date(date), TimePrecision.MINUTE, artist, album, track)


def _from_uts_csv(row: list[str]) -> _Scrobble | None:
    if len(row) != len(UTS_HEADER):
        raise RecordRefused(ProblemKind.UNREADABLE, f"has {len(row)} fields, expected {len(UTS_HEADER)}")
    uts, utc_time, artist, artist_mbid, album, album_mbid, track, track_mbid = row
    if uts.strip():
        start, precision = _unix(uts), TimePrecision.SECOND
    elif utc_time.strip():
        start, precision = _parse_date(utc_time), TimePrecision.MINUTE
    else:
        raise RecordRefused(ProblemKind.MISSING_FIELD, "has neither uts nor utc_time")
    return _Scrobble(start, precision, artist, album, track, track_mbid, artist_mbid, album_mbid)


def _from_tsv(cells: list[str]) -> _Scrobble | None:
    # Tools that trim trailing whitespace drop the empty mbid columns at the end of a line.
    if not 4 <= len(cells) <= 7:
        raise RecordRefused(ProblemKind.UNREADABLE, f"has {len(cells)} tab-separated fields, expected 7")
    uts, track, artist, album, *mbids = cells  # track, artist, album mbids: the Play's order
    return _Scrobble(_unix(uts), TimePrecision.SECOND, artist, album, track, *mbids)


def _from_api(element: Any) -> _Scrobble | None:
    if not isinstance(element, dict):
        raise RecordRefused(ProblemKind.UNREADABLE, f"is a {type(element).__name__}, not a track object")
    attr = element.get("@attr")
    if isinstance(attr, dict) and str(attr.get("nowplaying", "")).lower() == "true":
        return None
    date = element.get("date")
    if not isinstance(date, dict) or date.get("uts") in (None, ""):
        raise RecordRefused(ProblemKind.MISSING_FIELD, "has no date and is not the now-playing track")
    artist, album = element.get("artist"), element.get("album")
    return _Scrobble(
        _unix(str(date["uts"])),
        TimePrecision.SECOND,
        _text(artist, "#text", "name"),  # "name" when fetched with extended=1
        _text(album, "#text"),
        _text(element, "name"),
        _text(element, "mbid"),
        _text(artist, "mbid"),
        _text(album, "mbid"),
    )


_CONVERTERS: dict[_Shape, Callable[[Any], _Scrobble | None]] = {
    _Shape.NO_HEADER_CSV: _from_no_header_csv,
    _Shape.UTS_CSV: _from_uts_csv,
    _Shape.TSV: _from_tsv,
    _Shape.API_JSON: _from_api,
}


def _api_tracks(entry: Entry, value: Any) -> Iterator[Any]:
    """The track elements of one page, an array of pages, or a bare array of tracks, in file order."""
    pages = value if isinstance(value, list) else [value]
    for page in pages:
        if isinstance(page, dict) and "recenttracks" in page:
            recent = page["recenttracks"]
            tracks = recent.get("track") if isinstance(recent, dict) else None
            if isinstance(tracks, dict):
                tracks = [tracks]  # the API writes a lone track as an object, not a list
            if not isinstance(tracks, list):
                raise ExportError(entry.path, "has a recenttracks object without a track list")
            yield from tracks
        elif isinstance(value, list):
            yield page  # a bare array of tracks
        else:
            raise ExportError(entry.path, "is JSON but holds no recenttracks page or track list")


def _text(obj: Any, *keys: str) -> str | None:
    """The first non-empty text among ``obj[key]``; the API leaves unknown values as ""."""
    for key in keys:
        value = obj.get(key) if isinstance(obj, dict) else None
        if isinstance(value, str) and value:
            return value
    return None


def _parse_date(text: str) -> datetime:
    match = _DATE.fullmatch(text.strip())
    month = _MONTHS.get(match.group(2).lower()) if match else None
    if match is None or month is None:
        raise RecordRefused(ProblemKind.INVALID_TIME, f"date {text!r} is not like '20 Nov 2020 09:35'")
    day, _, year, hour, minute = match.groups()
    try:
        return datetime(int(year), month, int(day), int(hour), int(minute), tzinfo=UTC)
    except ValueError as exc:
        raise RecordRefused(ProblemKind.INVALID_TIME, f"date {text!r} is not a real time ({exc})") from exc


def _unix(uts: str) -> datetime:
    if not _DIGITS.fullmatch(uts.strip()):
        raise RecordRefused(ProblemKind.INVALID_TIME, f"uts {uts!r} is not unix seconds")
    return utc_from_unix(int(uts))


def _play(entry: Entry, index: int, s: _Scrobble, options: ReadOptions) -> Play:
    if not s.artist or not s.track:
        raise RecordRefused(ProblemKind.MISSING_FIELD, "has no artist" if not s.artist else "has no track name")
    check_plausible(s.start, None, now=options.now)
    return Play(
        source=Source.LASTFM,
        source_file=entry.path,
        record_index=index,
        start_utc=s.start,
        time_precision=s.precision,
        track=s.track,
        artist=s.artist,
        album=s.album or None,
        content_kind=ContentKind.MUSIC,
        recording_mbid=s.recording_mbid or None,
        artist_mbid=s.artist_mbid or None,
        release_mbid=s.release_mbid or None,
    )
