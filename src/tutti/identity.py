"""A play's identity: the same record always gets the same id, wherever it is stored. Version 1, frozen.

``play_id`` is the MD5 (hex) of a byte layout of the play's *identity fields*, a fixed list
(``IDENTITY_V1_FIELDS``), not "every column": adding a field to ``Play`` changes no id. The list holds what the
export recorded; derived labels (the normalised platform, the derived skip, the content kind, the name keys) are
left out, so a better interpretation later does not make a stored record look new, and so are where the record sat
(file name, position), so that the same play read from a re-download matches.

**Byte layout, version 1.** Each identity field, in the order of ``IDENTITY_V1_FIELDS``, as text:

- NULL: the single character U+0000;
- a time (``end_utc``, ``start_utc``, ``offline_utc``): microseconds since 1970-01-01 UTC, in decimal;
- an integer: decimal (``-5``, ``0``, ``187000``);
- a boolean: ``true`` or ``false``;
- a string (the source, the time precision, names, ids, reasons): itself;

joined with U+001F (unit separator) and encoded as UTF-8: that is the *identity text*. Then:

- a play with second precision: ``play_id = md5(identity text)``; identical records (a few exact duplicates in
  Spotify's extended history) share one id and the store keeps one;
- a play with minute precision (Spotify account data, some Last.fm files) really can repeat within one minute:
  its identical records are told apart by their order, ``play_id = md5(identity text + U+001E + n)`` where ``n``
  (decimal, from 1) is the record's rank among identical identity texts of the same import, ordered by source file
  and record index, so an overlapping later export matches them instead of adding them twice.

The local store and the cooperative's pool both key plays with ``keyed_sql`` (DuckDB); ``play_id`` computes the
same in Python. A version 2 would come with a store migration that re-keys every play and rewrites the merges that
name old ids; ``IDENTITY_VERSION`` is recorded with the store and with every pool file.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from tutti.model import EPOCH, PLAY_COLUMNS, Play, TimePrecision

IDENTITY_VERSION = 1

IDENTITY_V1_FIELDS: tuple[str, ...] = (
    "source",
    "end_utc",
    "start_utc",
    "ms_played",
    "time_precision",
    "track",
    "artist",
    "album",
    "duration_ms",
    "spotify_uri",
    "recording_mbid",
    "artist_mbid",
    "release_mbid",
    "isrc",
    "platform_raw",
    "country",
    "reason_start",
    "reason_end",
    "shuffle",
    "skipped_raw",
    "offline",
    "offline_utc",
    "incognito",
)
assert set(IDENTITY_V1_FIELDS) <= set(PLAY_COLUMNS), "identity fields must be fields of Play"

FIELD_SEPARATOR = "\x1f"
ORDINAL_SEPARATOR = "\x1e"
NULL = "\x00"
_TIME_FIELDS = frozenset({"end_utc", "start_utc", "offline_utc"})


def _text(value: object) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        delta = value - EPOCH  # plays are UTC and aware; a naive time raises here rather than hash wrongly
        return str((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)
    return str(value)


def identity_text(play: Play) -> str:
    """The play's identity text (version 1 layout, before hashing)."""
    return FIELD_SEPARATOR.join(_text(getattr(play, name)) for name in IDENTITY_V1_FIELDS)


def play_id(play: Play, ordinal: int = 1) -> str:
    """The play's id; ``ordinal`` is its rank among identical minute-precision records (ignored otherwise)."""
    text = identity_text(play)
    if play.time_precision is TimePrecision.MINUTE:
        text += ORDINAL_SEPARATOR + str(ordinal)
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _identity_sql() -> str:
    parts = ", ".join(
        f"coalesce(epoch_us({c})::VARCHAR, chr(0))" if c in _TIME_FIELDS else f"coalesce({c}::VARCHAR, chr(0))"
        for c in IDENTITY_V1_FIELDS
    )
    return f"concat_ws(chr(31), {parts})"


def keyed_sql(source: str) -> str:
    """DuckDB SQL selecting every column of the table ``source`` (``PLAY_SCHEMA``) plus its ``play_id``."""
    return f"""
    WITH identified AS (SELECT *, {_identity_sql()} AS identity FROM {source})
    SELECT * EXCLUDE (identity), md5(identity) AS play_id FROM identified WHERE time_precision <> 'minute'
    UNION ALL
    SELECT * EXCLUDE (identity),
           md5(identity || chr(30) || row_number() OVER (
               PARTITION BY identity ORDER BY source_file, record_index)::VARCHAR) AS play_id
    FROM identified WHERE time_precision = 'minute'
    """
