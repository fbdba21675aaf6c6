"""Spotify extended streaming history: ``endsong_N.json``, ``Streaming_History_Audio_*.json``, ``..._Video_*.json``.

Three key-set eras exist (21, 19 and 23 keys); fields are mapped by key presence, never by file name. ``ts`` is
when the play ended (UTC, seconds). A row is a track, a podcast episode, an audiobook chapter, or (old exports)
a row with every content field null, stored as ``unknown``. Video files hold music and episodes too.

Histories run to 500k rows, so a file is turned into columns and converted with Arrow compute in one pass
rather than one Python object per play. Whether a record is stored is decided by one rule, ``_refusal``, whichever
way the file is read: the fast path only answers "every record passes" (its checks are stricter than needed, never
looser) and otherwise hands the whole file to ``_refusal`` record by record. So a record is stored or refused the
same way, with the same reason, whatever its neighbours are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tutti.importers._archive import Entry
from tutti.importers._json import load_json_array
from tutti.importers.options import ReadOptions
from tutti.model import (
    EARLIEST_PLAUSIBLE,
    FUTURE_TOLERANCE,
    MAX_PLAUSIBLE_MS,
    PLAY_SCHEMA,
    SKIP_REASONS,
    ContentKind,
    ImportItem,
    PlayBatch,
    ProblemKind,
    RecordRefused,
    Skipped,
    Source,
    TimePrecision,
    check_plausible,
    normalize_platform,
)

NAME = "spotify_extended"
DESCRIPTION = "Spotify extended streaming history (endsong_N.json, Streaming_History_Audio/Video_*.json)"

_STRING_KEYS = (
    "ts",
    "platform",
    "conn_country",
    "master_metadata_track_name",
    "master_metadata_album_artist_name",
    "master_metadata_album_album_name",
    "spotify_track_uri",
    "episode_name",
    "episode_show_name",
    "spotify_episode_uri",
    "audiobook_title",
    "audiobook_uri",
    "audiobook_chapter_uri",
    "audiobook_chapter_title",
    "reason_start",
    "reason_end",
)
_BOOL_KEYS = ("shuffle", "skipped", "offline", "incognito_mode")
_INT_KEYS = ("ms_played", "offline_timestamp")
_TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TS_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_US = pa.timestamp("us", tz="UTC")
# Milliseconds (13 digits) or seconds (10 digits): from 10^14 on no unit gives a time, and microseconds overflow.
_MAX_OFFLINE = 10**14


def sniff(head: bytes, name: str) -> bool:
    text = head.lstrip()
    return text.startswith(b"[") and b'"ts"' in text and b'"ms_played"' in text


def read(entries: Sequence[Entry], options: ReadOptions) -> Iterator[ImportItem]:
    for entry in entries:
        yield from read_records(entry.path, load_json_array(entry), options)


def _refusal(record: Any, now: datetime) -> RecordRefused | None:
    """Why one record cannot be stored, or None: the one validation of this format."""
    if not isinstance(record, dict):
        return RecordRefused(ProblemKind.UNREADABLE, f"is a {type(record).__name__}, not an object")
    ts, ms = record.get("ts"), record.get("ms_played")
    if ts is None:
        return RecordRefused(ProblemKind.MISSING_FIELD, "has no ts (end time)")
    if not isinstance(ts, str) or not _TS_SHAPE.fullmatch(ts):
        return RecordRefused(ProblemKind.INVALID_TIME, f"ts {ts!r} is not a time like 2024-01-31T23:59:59Z")
    try:
        when = datetime.strptime(ts, _TS_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return RecordRefused(ProblemKind.INVALID_TIME, f"ts {ts!r} is not a real time")
    if ms is None:
        return RecordRefused(ProblemKind.MISSING_FIELD, "has no ms_played")
    if type(ms) is not int:
        return RecordRefused(ProblemKind.WRONG_TYPE, f"ms_played {ms!r} is not a whole number")
    for key in _STRING_KEYS:
        if not isinstance(record.get(key), str | None):
            return RecordRefused(ProblemKind.WRONG_TYPE, f"{key} should be text, not {record[key]!r}")
    for key in _BOOL_KEYS:
        if not isinstance(record.get(key), bool | None):
            return RecordRefused(ProblemKind.WRONG_TYPE, f"{key} should be true/false, not {record[key]!r}")
    if not _is_offline_timestamp(record.get("offline_timestamp")):
        value = record["offline_timestamp"]
        return RecordRefused(ProblemKind.WRONG_TYPE, f"offline_timestamp {value!r} is not a whole number")
    try:
        check_plausible(when, ms, now=now)
    except RecordRefused as refused:
        return refused
    return None


def _is_offline_timestamp(value: object) -> bool:
    return value is None or type(value) is int


def _offline_in_range(value: object) -> bool:
    return value is None or (type(value) is int and -_MAX_OFFLINE < value < _MAX_OFFLINE)


_RECORD_TYPE = pa.struct(
    [(k, pa.string()) for k in _STRING_KEYS]
    + [(k, pa.bool_()) for k in _BOOL_KEYS]
    + [(k, pa.int64()) for k in _INT_KEYS]
)


def _columns(records: list[Any]) -> dict[str, pa.Array]:
    # Arrow converts the list of dicts in C++; keys not named in _RECORD_TYPE (IP address, username, user
    # agent) are never even copied.
    structs = pa.array(records, type=_RECORD_TYPE)
    return {name: structs.field(name) for name in _RECORD_TYPE.names}


def _parsed_ts(ts: pa.Array) -> pa.Array:
    return pc.strptime(ts, format=_TS_FORMAT, unit="s", error_is_null=True)


def _surely_clean(records: list[Any], now: datetime) -> dict[str, pa.Array] | None:
    """The file's columns when no record can be refused, else None. Stricter than ``_refusal``, never looser:
    Arrow alone would read 1.9 as 1, "2023-02-30" as 2 March and a list of pairs as an object."""
    for r in records:  # what Arrow cannot tell: a record that is not an object, a float for a whole number
        if type(r) is not dict or type(r.get("ms_played")) is not int:
            return None
        offline = r.get("offline_timestamp")
        if offline is not None and (type(offline) is not int or not -_MAX_OFFLINE < offline < _MAX_OFFLINE):
            return None
    try:
        cols = _columns(records)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError):
        return None
    ts, ms = cols["ts"], cols["ms_played"]
    parsed = _parsed_ts(ts)
    shaped = pc.match_substring_regex(ts, f"^{_TS_SHAPE.pattern}$")
    # Written back, the time must be the text it was read from: no day or second rolled over. (The cast to text
    # is "2024-01-31 23:59:59"; strftime would do it in one step but is ten times slower.)
    written = pc.binary_join_element_wise(pc.replace_substring(pc.cast(parsed, pa.string()), " ", "T"), "Z", "")
    exact = pc.and_(shaped, pc.equal(written, ts))
    end = pc.cast(parsed, _US)
    latest, earliest = pa.scalar(now + FUTURE_TOLERANCE, _US), pa.scalar(EARLIEST_PLAUSIBLE, _US)
    bad = pc.or_(pc.invert(exact), pc.or_(pc.less(ms, 0), pc.greater(ms, MAX_PLAUSIBLE_MS)))
    bad = pc.or_(bad, pc.or_(pc.less(end, earliest), pc.greater(end, latest)))
    return None if pc.any(pc.fill_null(bad, True)).as_py() else cols


def read_records(file: str, records: list[Any], options: ReadOptions) -> Iterator[ImportItem]:
    """Turn one file's parsed records into plays (one PlayBatch), problems and skip counts."""
    indices = pa.array(range(len(records)), pa.int64())
    cols = _surely_clean(records, options.now)
    if cols is None:
        # Something is off: find the refused records one by one and convert only the rest.
        good: list[Any] = []
        good_index: list[int] = []
        for i, record in enumerate(records):
            refused = _refusal(record, options.now)
            if refused:
                yield refused.at(file, f"record {i}")
            else:
                # An offline timestamp no unit makes a time of is unknown, not a reason to lose the play.
                offline = record.get("offline_timestamp")
                good.append(record if _offline_in_range(offline) else {**record, "offline_timestamp": None})
                good_index.append(i)
        indices = pa.array(good_index, pa.int64())
        cols = _columns(good)
    table = _to_table(file, indices, cols, pc.cast(_parsed_ts(cols["ts"]), _US))
    incognito = pc.fill_null(cols["incognito_mode"], False)
    hidden = pc.sum(incognito).as_py() or 0
    if hidden and not options.include_incognito:
        table = table.filter(pc.invert(incognito))
        yield Skipped(file, "incognito (private session) plays, left out unless the listener asks to keep them", hidden)
    if table.num_rows:
        yield PlayBatch(file, table)


def _platforms(raw: pa.Array) -> pa.Array:
    uniques = pc.unique(raw)
    names = pa.array([normalize_platform(v).value for v in uniques.to_pylist()], pa.string())
    return pc.take(names, pc.index_in(raw, uniques))


def _derived_skips(raw: pa.Array, reason_end: pa.Array) -> pa.Array:
    """Vectorised ``model.derive_skipped``."""
    has_reason = pc.fill_null(pc.not_equal(reason_end, ""), False)
    by_reason = pc.is_in(reason_end, pa.array(sorted(SKIP_REASONS)))
    raw_false = pc.fill_null(pc.equal(raw, False), False)
    otherwise = pc.if_else(raw_false, False, pa.scalar(None, pa.bool_()))
    return pc.if_else(pc.fill_null(raw, False), True, pc.if_else(has_reason, by_reason, otherwise))


def _offline_times(raw: pa.Array) -> pa.Array:
    # Milliseconds (13 digits) in older records, seconds (10 digits) later, 0 when unknown.
    known = pc.if_else(pc.fill_null(pc.greater(raw, 0), False), raw, pa.scalar(None, pa.int64()))
    micros = pc.if_else(pc.greater(known, 100_000_000_000), pc.multiply(known, 1000), pc.multiply(known, 1_000_000))
    return pc.cast(micros, pa.int64()).cast(_US)


def _first(*arrays: pa.Array) -> pa.Array:
    return pc.coalesce(*arrays)


def _to_table(file: str, indices: pa.Array, c: dict[str, pa.Array], end: pa.Array) -> pa.Table:
    n = len(indices)
    is_track = pc.is_valid(c["master_metadata_track_name"])
    is_book = pc.is_valid(c["audiobook_title"])
    is_episode = pc.is_valid(c["episode_name"])
    kind = pc.if_else(
        is_book,
        ContentKind.AUDIOBOOK.value,
        pc.if_else(
            is_track,
            ContentKind.MUSIC.value,
            pc.if_else(is_episode, ContentKind.PODCAST.value, ContentKind.UNKNOWN.value),
        ),
    )
    ms = c["ms_played"]
    start = pc.subtract(end, pc.cast(pc.multiply(ms, 1000), pa.duration("us")))
    null_str = pa.nulls(n, pa.string())
    columns = {
        "source": pa.array([Source.SPOTIFY_EXTENDED.value] * n, pa.string()),
        "source_file": pa.array([file] * n, pa.string()),
        "record_index": indices,
        "end_utc": end,
        "start_utc": start,
        "ms_played": ms,
        "time_precision": pa.array([TimePrecision.SECOND.value] * n, pa.string()),
        "track": _first(c["audiobook_chapter_title"], c["master_metadata_track_name"], c["episode_name"]),
        "artist": _first(c["master_metadata_album_artist_name"], c["episode_show_name"]),
        "album": _first(c["audiobook_title"], c["master_metadata_album_album_name"]),
        "content_kind": kind,
        "duration_ms": pa.nulls(n, pa.int64()),
        "spotify_uri": _first(c["audiobook_chapter_uri"], c["spotify_track_uri"], c["spotify_episode_uri"]),
        "recording_mbid": null_str,
        "artist_mbid": null_str,
        "release_mbid": null_str,
        "isrc": null_str,
        "platform": _platforms(c["platform"]),
        "platform_raw": c["platform"],
        "country": c["conn_country"],
        "reason_start": c["reason_start"],
        "reason_end": c["reason_end"],
        "shuffle": c["shuffle"],
        "skipped": _derived_skips(c["skipped"], c["reason_end"]),
        "skipped_raw": c["skipped"],
        "offline": c["offline"],
        "offline_utc": _offline_times(c["offline_timestamp"]),
        "incognito": c["incognito_mode"],
        "utc_offset_s": pa.nulls(n, pa.int32()),
    }
    return pa.Table.from_arrays([columns[name] for name in PLAY_SCHEMA.names], schema=PLAY_SCHEMA)
