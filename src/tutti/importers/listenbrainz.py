"""ListenBrainz: the export zip (``listens/<YYYY>/<M>.jsonl``, ``feedback.jsonl``) and listens from the API.

A listen is a scrobble: ``listened_at`` is when it began (unix seconds) and nothing says how long it played,
so ``ms_played`` stays None; a client-reported track length goes to ``duration_ms``. ``user.json`` and the API
object's ``user_name`` name the listener: the first is never opened (detect skips it), the second never read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import orjson

from tutti.errors import ExportError
from tutti.importers._archive import Entry
from tutti.importers._json import iter_jsonl, load_json
from tutti.importers.options import ReadOptions
from tutti.model import (
    ImportItem,
    ImportProblem,
    LibraryItem,
    LibraryKind,
    Play,
    ProblemKind,
    RecordRefused,
    Skipped,
    Source,
    batches,
    check_plausible,
    normalize_platform,
    utc_from_unix,
)

NAME = "listenbrainz"
DESCRIPTION = "ListenBrainz export zip (listens/YYYY/M.jsonl, feedback.jsonl) or listens saved as JSON/JSONL"

# The spotify-importer writes URLs, some with a plural "/tracks/" path; only tracks and episodes are plays.
_SPOTIFY_URL = re.compile(r"open\.spotify\.com/(?:intl-[a-z-]+/)?(track|episode)s?/([0-9A-Za-z]{22})\b")
_SPOTIFY_URI = re.compile(r"spotify:(?:track|episode):[0-9A-Za-z]{22}")
_FEEDBACK_KINDS = {1: LibraryKind.LOVED, -1: LibraryKind.HATED}
# A listen object can begin with a long track_metadata, so any two of its keys are enough.
_LISTEN_KEYS = (b'"track_metadata"', b'"listened_at"', b'"track_name"')


def sniff(head: bytes, name: str) -> bool:
    text = head.lstrip()
    if not text.startswith((b"{", b"[")):
        return False
    if b'"track_metadata"' in text and sum(key in text for key in _LISTEN_KEYS) >= 2:
        return True
    return b'"score"' in text and b'"created"' in text and b'"recording_m' in text


def read(entries: Sequence[Entry], options: ReadOptions) -> Iterator[ImportItem]:
    for entry in entries:
        yield from _read_file(entry, options)


def _read_file(entry: Entry, options: ReadOptions) -> Iterator[ImportItem]:
    plays: list[Play] = []
    skipped: Counter[str] = Counter()
    for index, (label, record) in enumerate(_records(entry)):
        if not isinstance(record, dict):
            yield ImportProblem(
                entry.path, label, ProblemKind.UNREADABLE, f"is a JSON {type(record).__name__}, not an object"
            )
        elif "track_metadata" in record:
            item = _play(entry, index, label, record, options)
            if isinstance(item, Play):
                plays.append(item)
            else:
                yield item
        elif "score" in record:
            feedback = _feedback(entry, label, record, options)
            if isinstance(feedback, str):
                skipped[feedback] += 1
            else:
                yield feedback
        else:
            yield ImportProblem(entry.path, label, ProblemKind.UNREADABLE, "is neither a listen nor a feedback row")
    yield from batches(entry.path, plays)
    for reason, count in skipped.items():
        yield Skipped(entry.path, reason, count)


def _records(entry: Entry) -> Iterator[tuple[str, Any]]:
    """Each record with the name a problem report uses: "line N" in JSON lines, "record N" in a JSON file."""
    if not entry.basename.lower().endswith(".jsonl"):
        try:
            value = load_json(entry)
        except ExportError:
            if not _starts_with_object_line(entry):
                raise
        else:
            yield from _document_records(entry, value)
            return
    for number, record in iter_jsonl(entry):
        yield f"line {number}", record


def _document_records(entry: Entry, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and isinstance(value.get("payload"), dict):
        # A saved API response: {"payload": {"listens": [...], "user_id": ...}}; only the listens are read.
        value = value["payload"].get("listens")
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise ExportError(entry.path, "should hold a ListenBrainz listen object or an array of listens")
    for number, record in enumerate(value):
        yield f"record {number}", record


def _starts_with_object_line(entry: Entry) -> bool:
    """Whether the first line alone is a whole JSON object: JSON lines under a name other than .jsonl."""
    first = next((line for line in entry.head(65536).splitlines() if line.strip()), b"")
    try:
        return isinstance(orjson.loads(first), dict)
    except orjson.JSONDecodeError:
        return False


def _play(entry: Entry, index: int, label: str, record: dict[str, Any], options: ReadOptions) -> Play | ImportProblem:
    meta = record["track_metadata"]
    if not isinstance(meta, dict):
        return ImportProblem(entry.path, label, ProblemKind.WRONG_TYPE, "track_metadata is not an object")
    when = _unix(record.get("listened_at"))
    if when is None:
        return ImportProblem(entry.path, label, ProblemKind.INVALID_TIME, "listened_at is missing or not a unix time")
    track = _text(meta.get("track_name"))
    if track is None:
        return ImportProblem(entry.path, label, ProblemKind.MISSING_FIELD, "track_name is missing")
    try:
        check_plausible(when, None, now=options.now)
    except RecordRefused as refused:
        return refused.at(entry.path, label)
    mapping = _object(meta.get("mbid_mapping"))
    info = _object(meta.get("additional_info"))
    player = _text(info.get("media_player"))
    return Play(
        source=Source.LISTENBRAINZ,
        source_file=entry.path,
        record_index=index,
        start_utc=when,
        track=track,
        artist=_text(meta.get("artist_name")),
        album=_text(meta.get("release_name")),
        duration_ms=_duration_ms(info),
        spotify_uri=_spotify_uri(info.get("spotify_id")),
        recording_mbid=_text(mapping.get("recording_mbid")) or _text(info.get("recording_mbid")),
        artist_mbid=_first(mapping.get("artist_mbids")) or _first(info.get("artist_mbids")),
        release_mbid=_text(mapping.get("release_mbid")) or _text(info.get("release_mbid")),
        isrc=_text(info.get("isrc")),
        # media_player names the player ("Spotify", "mpv"); submission_client is a scrobbler, not a device.
        platform=normalize_platform(player),
        platform_raw=player,
    )


def _feedback(entry: Entry, label: str, record: dict[str, Any], options: ReadOptions) -> ImportItem | str:
    """A love/hate as a LibraryItem, a problem, or the reason a neutral row is skipped."""
    score = record.get("score")
    if score == 0 and not isinstance(score, bool):
        return "feedback withdrawn (score 0)"
    kind = _FEEDBACK_KINDS.get(score) if isinstance(score, int) and not isinstance(score, bool) else None
    if kind is None:
        return ImportProblem(entry.path, label, ProblemKind.INVALID_VALUE, f"feedback score {score!r} is not 1 or -1")
    mbid, msid = _text(record.get("recording_mbid")), _text(record.get("recording_msid"))
    if mbid is None and msid is None:
        reason = "feedback names no recording (no recording_mbid or recording_msid)"
        return ImportProblem(entry.path, label, ProblemKind.MISSING_FIELD, reason)
    created = _unix(record.get("created"))
    try:
        check_plausible(created, None, now=options.now)
    except RecordRefused as refused:
        return refused.at(entry.path, label)
    uri = f"musicbrainz:recording:{mbid}" if mbid else f"listenbrainz:recording_msid:{msid}"
    return LibraryItem(Source.LISTENBRAINZ, entry.path, kind, None, uri=uri, added_utc=created)


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first(value: object) -> str | None:
    return _text(value[0]) if isinstance(value, list) and value else None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _unix(value: object) -> datetime | None:
    seconds = _number(value)
    if seconds is None or abs(seconds) > 1e11:  # beyond year 5000: not seconds, not a time
        return None
    return utc_from_unix(seconds)


def _duration_ms(info: dict[str, Any]) -> int | None:
    """Track length: ``duration_ms`` (Pano Scrobbler) or ``duration`` in seconds (Web Scrobbler)."""
    ms = _number(info.get("duration_ms"))
    if ms is None:
        seconds = _number(info.get("duration"))
        ms = None if seconds is None else seconds * 1000
    return round(ms) if ms is not None and 0 <= ms < 1e10 else None


def _spotify_uri(value: object) -> str | None:
    text = _text(value)
    if text is None:
        return None
    if _SPOTIFY_URI.fullmatch(text):
        return text
    match = _SPOTIFY_URL.search(text)
    return f"spotify:{match[1]}:{match[2]}" if match else None
