"""Apple Music: ``Apple Music Play Activity.csv`` from Apple's privacy export.

One row is one playback event. ``Event Start Timestamp`` + ``Play Duration Milliseconds`` =
``Event End Timestamp`` exactly in every sample row that has both, so start, end and ms_played are all kept.
``UTC Offset In Seconds`` is kept as ``utc_offset_s``: it is the listener's own clock at each play, which the
recap needs for local time (it is never pooled). Identifying columns (Apple Id Number, Device Identifier, Metrics
ids, Store Country Name, the full Build Version) are never read; only the operating-system family is taken from the
build string.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

from tutti.errors import ExportError
from tutti.importers._archive import Entry
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
    batches,
    check_plausible,
    normalize_platform,
)

NAME = "apple_music"
DESCRIPTION = "Apple Music Play Activity.csv from Apple's privacy data export"

# Exports before ~2020 name the title "Content Name"; later ones "Song Name" (and add "Album Name").
_TITLE_COLUMNS = ("Content Name", "Song Name")
_REQUIRED = ("Play Duration Milliseconds", "Event End Timestamp")
_SKIP_REASONS = frozenset({"TRACK_SKIPPED_FORWARDS", "TRACK_SKIPPED_BACKWARDS"})
_SCRUB_REASONS = frozenset({"SCRUB_BEGIN", "SCRUB_END"})
# Build Version reads "iTunes/12.7.5.9 macOS/10.13.5 build/… model/…": keep the OS family, nothing else.
_OS_NAMES = {
    name.lower(): "macOS" if name == "Mac OS X" else name
    for name in ("macOS", "Mac OS X", "iPadOS", "iOS", "watchOS", "tvOS", "visionOS", "Android", "Windows")
}
_OS_FAMILY = re.compile(r"\b(" + "|".join(_OS_NAMES) + r")\b", re.IGNORECASE)


def sniff(head: bytes, name: str) -> bool:
    header = head.split(b"\n", 1)[0]
    return all(c.encode() in header for c in _REQUIRED) and any(c.encode() in header for c in _TITLE_COLUMNS)


def read(entries: Sequence[Entry], options: ReadOptions) -> Iterator[ImportItem]:
    for entry in entries:
        yield from _read_file(entry, options)


def _read_file(entry: Entry, options: ReadOptions) -> Iterator[ImportItem]:
    reader = csv.DictReader(io.StringIO(entry.read_text(), newline=""))
    plays: list[Play] = []
    skipped: Counter[str] = Counter()
    try:
        columns = reader.fieldnames or []
        missing = [c for c in _REQUIRED if c not in columns]
        title_column = next((c for c in _TITLE_COLUMNS if c in columns), None)
        if missing or title_column is None:
            lacking = ", ".join(missing or ["Content Name"])
            raise ExportError(entry.path, f"is not an Apple Music Play Activity file (no column {lacking})")
        line = reader.line_num
        for index, row in enumerate(reader):
            label, line = f"line {line + 1}", reader.line_num
            if None in row or None in row.values():
                fields = len(columns) + len(row.get(None) or []) - list(row.values()).count(None)
                counted = f"has {fields} fields, the header has {len(columns)}"
                yield ImportProblem(entry.path, label, ProblemKind.UNREADABLE, counted)
                continue
            reason = _not_a_play(row, title_column)
            if reason:
                skipped[reason] += 1
                continue
            item = _play(entry, index, label, row, title_column, options)
            if isinstance(item, Play):
                plays.append(item)
            else:
                yield item
    except csv.Error as exc:
        raise ExportError(entry.path, f"is not readable CSV at line {reader.line_num} ({exc})") from exc
    yield from batches(entry.path, plays)
    for reason, count in skipped.items():
        yield Skipped(entry.path, reason, count)


def _not_a_play(row: dict[str, str], title_column: str) -> str | None:
    """Why a row is not a listen, or None when it is one.

    Read from the sample's distribution. Plays have Event Type PLAY_END or empty (LYRIC_DISPLAY is a
    lyrics view). SCRUB_BEGIN/SCRUB_END rows are pieces of one listen cut up by seeking, followed by the
    row that ends it, so storing them would count that listen several times. AGGREGATE_NON_CATALOG_PLAY_TIME
    rows total the time spent on non-catalog media, untitled and sometimes over 24 hours. Ads and other
    untitled rows name nothing listened to. Everything else is a play, FAILED_TO_LOAD and 0 ms rows
    included: short plays are stored, and reason_end keeps the raw reason so analysis can tell them apart.
    """
    event_type = row.get("Event Type", "").strip()
    if event_type and event_type != "PLAY_END":
        return f"{event_type} event, not a play"
    item_type = row.get("Item Type", "").strip()
    if item_type == "AGGREGATE_NON_CATALOG_PLAY_TIME":
        return "aggregate play time of non-catalog media, not a play"
    if item_type == "AD":
        return "advertisement"
    if row.get("End Reason Type", "").strip() in _SCRUB_REASONS:
        return "scrub (seek) event, not a play"
    if not row[title_column].strip():
        return "no title"
    return None


def _play(
    entry: Entry, index: int, label: str, row: dict[str, str], title_column: str, options: ReadOptions
) -> Play | ImportProblem:
    try:
        ms_played = _ms(row, "Play Duration Milliseconds")
        duration_ms = _ms(row, "Media Duration In Milliseconds")
        start = _time(row, "Event Start Timestamp")
        end = _time(row, "Event End Timestamp")
        if end is None and start is None:
            end = _end_from_receipt(row)
        if ms_played is not None and ms_played < 0:
            # Seen only on rows without a start time (21 of 3,000 sample rows): Apple's own fault, not a made-up
            # value; the duration is unreliable, so the row is not stored.
            reason = f"negative Play Duration Milliseconds ({ms_played})"
            raise RecordRefused(ProblemKind.KNOWN_EXPORT_FAULT, reason)
        if start is None and end is None:
            raise RecordRefused(ProblemKind.MISSING_FIELD, "has no event time")
        check_plausible(start, ms_played, now=options.now)
        check_plausible(end, None, now=options.now)  # a row is refused when either of its ends is impossible
    except RecordRefused as refused:
        return refused.at(entry.path, label)
    end_reason = row.get("End Reason Type", "").strip() or None
    video = row.get("Media Type") == "VIDEO" or row.get("Content Specific Type") == "Music Video"
    os_family = _os_family(row.get("Build Version", ""))
    return Play(
        source=Source.APPLE_MUSIC,
        source_file=entry.path,
        record_index=index,
        start_utc=start,
        end_utc=end,
        ms_played=ms_played,
        track=row[title_column].strip(),
        artist=row.get("Artist Name", "").strip() or None,
        album=row.get("Album Name", "").strip() or None,
        content_kind=ContentKind.VIDEO if video else ContentKind.MUSIC,
        duration_ms=duration_ms if duration_ms is None or duration_ms >= 0 else None,
        platform=normalize_platform(os_family),
        platform_raw=os_family,
        reason_end=end_reason,
        skipped=None if end_reason is None else end_reason in _SKIP_REASONS,
        offline={"true": True, "false": False}.get(row.get("Offline", "").strip().lower()),
        utc_offset_s=_offset(row),
    )


def _offset(row: dict[str, str]) -> int | None:
    """``UTC Offset In Seconds`` ("25200.0"); None when empty or not a real offset (beyond ±18 h, as ISO 8601
    allows), so a damaged value never moves a play's clock."""
    try:
        seconds = _ms(row, "UTC Offset In Seconds")
    except RecordRefused:
        return None
    return seconds if seconds is not None and abs(seconds) <= 18 * 3600 else None


def _ms(row: dict[str, str], column: str) -> int | None:
    """A milliseconds column: an int or a float with ".0" ("186000.0"); empty is None."""
    text = row.get(column, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise RecordRefused(ProblemKind.WRONG_TYPE, f"{column} {text!r} is not a number")
    return round(value)


def _time(row: dict[str, str], column: str) -> datetime | None:
    text = row.get(column, "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise RecordRefused(ProblemKind.INVALID_TIME, f"{column} {text!r} is not an ISO time with a time zone")
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # "0001-01-01T00:00:00+01:00" has no UTC time
        raise RecordRefused(ProblemKind.INVALID_TIME, f"{column} {text!r} is not a time UTC can hold") from exc


def _end_from_receipt(row: dict[str, str]) -> datetime | None:
    """Received − "Milliseconds Since Play", which equals Event End in every sample row that has all three."""
    received, since = _time(row, "Event Received Timestamp"), _ms(row, "Milliseconds Since Play")
    if received is None or since is None:
        return None
    try:
        return received - timedelta(milliseconds=since)
    except OverflowError as exc:
        raise RecordRefused(ProblemKind.INVALID_TIME, f"Milliseconds Since Play {since} is before any time") from exc


def _os_family(build: str) -> str | None:
    match = _OS_FAMILY.search(build)
    return _OS_NAMES[match[1].lower()] if match else None
