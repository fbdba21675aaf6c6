"""YouTube Music: the ``header == "YouTube Music"`` rows of a Google Takeout ``watch-history.json``.

Takeout mixes YouTube and YouTube Music in one array of activity rows. A row says only what was watched and
when: no album, no duration, no device, so ``ms_played`` stays None and the platform unknown. The artist is
the channel name, often ``"<Artist> - Topic"``. ``details`` (ad attribution), ``description`` and
``activityControls`` are never read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from tutti.importers._archive import Entry
from tutti.importers._json import load_json_array
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
)

NAME = "youtube_music"
DESCRIPTION = "YouTube Music plays in a Google Takeout watch-history.json"

_HEADER = "YouTube Music"
_WATCHED = "Watched "
_TOPIC = " - Topic"
# Takeout's stand-in title for a video that no longer exists; it names nothing.
_REMOVED = "Watched a video that has been removed"
# Watch history, not search or other Takeout activity, in any account language: a video link or the header.
_WATCH_SIGNS = (b"watch?v=", b'"YouTube Music"', b'"Watched ')


def sniff(head: bytes, name: str) -> bool:
    text = head.lstrip()
    if not text.startswith(b"["):
        return False
    keys = all(key in text for key in (b'"header"', b'"title"', b'"time"'))
    return keys and any(sign in text for sign in _WATCH_SIGNS)


def read(entries: Sequence[Entry], options: ReadOptions) -> Iterator[ImportItem]:
    for entry in entries:
        yield from _read_file(entry, options)


def _read_file(entry: Entry, options: ReadOptions) -> Iterator[ImportItem]:
    plays: list[Play] = []
    skipped: Counter[str] = Counter()
    for index, record in enumerate(load_json_array(entry)):
        label = f"record {index}"
        if not isinstance(record, dict):
            yield ImportProblem(
                entry.path, label, ProblemKind.UNREADABLE, f"is a JSON {type(record).__name__}, not an object"
            )
            continue
        reason = _not_a_play(record)
        if reason:
            skipped[reason] += 1
            continue
        item = _play(entry, index, label, record, options)
        if isinstance(item, Play):
            plays.append(item)
        else:
            yield item
    yield from batches(entry.path, plays)
    for reason, count in skipped.items():
        yield Skipped(entry.path, reason, count)


def _not_a_play(record: dict[str, Any]) -> str | None:
    if record.get("header") != _HEADER:
        return "not YouTube Music"
    details = record.get("details")
    if isinstance(details, list) and any(isinstance(d, dict) and d.get("name") == "From Google Ads" for d in details):
        return "advertisement"
    title = record.get("title")
    if not isinstance(title, str) or not title.startswith(_WATCHED):
        # "Visited <url>" (ads), "Answered ..." (surveys), or a title in another account language.
        return "not a 'Watched' row"
    return None


def _play(entry: Entry, index: int, label: str, record: dict[str, Any], options: ReadOptions) -> Play | ImportProblem:
    when = _time(record.get("time"))
    if when is None:
        reason = f"time {record.get('time')!r} is not an ISO time with a zone"
        return ImportProblem(entry.path, label, ProblemKind.INVALID_TIME, reason)
    try:
        check_plausible(when, None, now=options.now)
    except RecordRefused as refused:
        return refused.at(entry.path, label)
    title: str = record["title"]
    track = title.removeprefix(_WATCHED).strip()
    # "Watched <url>" and removed videos: the title was unavailable when Takeout was written. The row is still
    # a real listen (it counts towards time of day, streaks, totals), so it is kept with no track and an
    # unknown kind rather than dropped.
    known = bool(track) and title != _REMOVED and not track.startswith(("https://", "http://"))
    return Play(
        source=Source.YOUTUBE_MUSIC,
        source_file=entry.path,
        record_index=index,
        start_utc=when,
        track=track if known else None,
        artist=_channel(record.get("subtitles")),
        # Official videos played in YouTube Music are still music; only an unnamed row is unknown.
        content_kind=ContentKind.MUSIC if known else ContentKind.UNKNOWN,
    )


def _channel(subtitles: object) -> str | None:
    """The channel name, with the " - Topic" of YouTube's automatic artist channels removed."""
    if not isinstance(subtitles, list) or not subtitles or not isinstance(subtitles[0], dict):
        return None
    name = subtitles[0].get("name")
    if not isinstance(name, str):
        return None
    return name.strip().removesuffix(_TOPIC).strip() or None


def _time(value: object) -> datetime | None:
    """ISO UTC, with or without milliseconds ("2025-01-08T09:33:52.286Z", "2023-01-13T06:33:10Z")."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else None
