"""A play's identity: the same record always gets the same id, wherever it is stored.

``play_id`` is an MD5 over the recorded fields of a play (derived labels such as the normalised platform, the
derived skip and the content kind are left out, so a better interpretation later does not make a record look
new). Exports that only record the minute (Spotify account data, some Last.fm files) really do repeat a play
within one minute: their identical records are told apart by their order, so an overlapping later export
matches them instead of adding them twice. Second-precision twins share one id; callers fold them.

The local store and the cooperative's pool both key plays with ``keyed_sql``.
"""

from __future__ import annotations

from tutti.model import PLAY_COLUMNS

IDENTITY_COLUMNS: tuple[str, ...] = tuple(
    c for c in PLAY_COLUMNS if c not in {"source_file", "record_index", "platform", "skipped", "content_kind"}
)


def _identity_text() -> str:
    parts = ", ".join(
        f"coalesce(epoch_us({c})::VARCHAR, chr(0))" if c.endswith("_utc") else f"coalesce({c}::VARCHAR, chr(0))"
        for c in IDENTITY_COLUMNS
    )
    return f"concat_ws(chr(31), {parts})"


def keyed_sql(source: str) -> str:
    """DuckDB SQL selecting every column of the table ``source`` (``PLAY_SCHEMA``) plus its ``play_id``."""
    return f"""
    WITH identified AS (SELECT *, {_identity_text()} AS identity FROM {source})
    SELECT * EXCLUDE (identity), md5(identity) AS play_id FROM identified WHERE time_precision <> 'minute'
    UNION ALL
    SELECT * EXCLUDE (identity),
           md5(identity || chr(30) || row_number() OVER (
               PARTITION BY identity ORDER BY source_file, record_index)::VARCHAR) AS play_id
    FROM identified WHERE time_precision = 'minute'
    """
