"""The local store's tables, created and upgraded in numbered steps; and the versions of the contracts it keeps.

Steps are SQL text or a function of the connection (for steps SQL cannot express, such as computing name keys).
``store_meta`` records the version of the play identity (``tutti.identity``) and of the name key
(``tutti.names``) the stored plays were keyed with; opening a store whose name keys are older recomputes them.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa

from tutti.identity import IDENTITY_VERSION
from tutti.names import NAME_KEY_VERSION, artist_key, track_key
from tutti.store._sql import run


def recompute_name_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Set ``artist_key`` and ``track_key`` of every stored play from its names, by the current name key."""
    for column, key in (("artist", artist_key), ("track", track_key)):
        names = [
            row[0] for row in con.execute(f"SELECT DISTINCT {column} FROM plays WHERE {column} IS NOT NULL").fetchall()
        ]
        mapping = pa.table(
            {"name": pa.array(names, pa.string()), "name_key": pa.array([key(n) for n in names], pa.string())}
        )
        con.register("name_keys", mapping)
        try:
            run(con, f"UPDATE plays SET {column}_key = k.name_key FROM name_keys k WHERE plays.{column} = k.name")
        finally:
            con.unregister("name_keys")
    run(con, "INSERT OR REPLACE INTO store_meta VALUES ('name_key_version', ?)", [str(NAME_KEY_VERSION)])


_CONTRACT_VERSIONS = f"""
CREATE TABLE store_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
INSERT INTO store_meta VALUES ('identity_version', '{IDENTITY_VERSION}');
ALTER TABLE plays ADD COLUMN artist_key VARCHAR;
ALTER TABLE plays ADD COLUMN track_key VARCHAR;
"""

# Each step runs once, in order; a store records the last step it has.
MIGRATIONS: tuple[str | Callable[[duckdb.DuckDBPyConnection], None], ...] = (
    """
    CREATE TABLE profiles (
        name VARCHAR PRIMARY KEY,
        created_utc TIMESTAMPTZ NOT NULL DEFAULT now(),
        time_zone VARCHAR
    );
    CREATE TABLE imports (
        import_id INTEGER PRIMARY KEY,
        profile VARCHAR NOT NULL,
        path VARCHAR NOT NULL,
        imported_utc TIMESTAMPTZ NOT NULL DEFAULT now(),
        plays_read BIGINT NOT NULL,
        plays_added BIGINT NOT NULL,
        report_json VARCHAR NOT NULL
    );
    CREATE TABLE plays (
        play_id VARCHAR NOT NULL,
        profile VARCHAR NOT NULL,
        import_id INTEGER NOT NULL,
        source VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        record_index BIGINT NOT NULL,
        end_utc TIMESTAMPTZ,
        start_utc TIMESTAMPTZ,
        ms_played BIGINT,
        time_precision VARCHAR NOT NULL,
        track VARCHAR,
        artist VARCHAR,
        album VARCHAR,
        content_kind VARCHAR NOT NULL,
        duration_ms BIGINT,
        spotify_uri VARCHAR,
        recording_mbid VARCHAR,
        artist_mbid VARCHAR,
        release_mbid VARCHAR,
        isrc VARCHAR,
        platform VARCHAR NOT NULL,
        platform_raw VARCHAR,
        country VARCHAR,
        reason_start VARCHAR,
        reason_end VARCHAR,
        shuffle BOOLEAN,
        skipped BOOLEAN,
        skipped_raw BOOLEAN,
        offline BOOLEAN,
        offline_utc TIMESTAMPTZ,
        incognito BOOLEAN
    );
    CREATE TABLE merges (
        merge_id INTEGER PRIMARY KEY,
        profile VARCHAR NOT NULL,
        duplicate_id VARCHAR NOT NULL,
        duplicate_source VARCHAR NOT NULL,
        kept_id VARCHAR NOT NULL,
        confidence VARCHAR NOT NULL,
        rule VARCHAR NOT NULL,
        delta_ms BIGINT NOT NULL,
        import_id INTEGER NOT NULL,
        undone BOOLEAN NOT NULL DEFAULT false
    );
    CREATE TABLE library_items (
        item_id VARCHAR NOT NULL,
        profile VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        name VARCHAR,
        artist VARCHAR,
        album VARCHAR,
        uri VARCHAR,
        added_utc TIMESTAMPTZ
    );
    CREATE TABLE playlists (
        playlist_id VARCHAR NOT NULL,
        profile VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        last_modified VARCHAR,
        description VARCHAR,
        followers INTEGER
    );
    CREATE TABLE playlist_entries (
        playlist_id VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        track VARCHAR,
        artist VARCHAR,
        album VARCHAR,
        uri VARCHAR,
        content_kind VARCHAR NOT NULL,
        added_date VARCHAR
    );
    CREATE TABLE service_recaps (
        recap_id VARCHAR NOT NULL,
        profile VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        year INTEGER NOT NULL,
        raw_json VARCHAR NOT NULL
    );
    """,
    """
    CREATE TABLE profile_zones (
        profile VARCHAR NOT NULL,
        since_utc TIMESTAMPTZ,
        zone VARCHAR NOT NULL
    );
    """,
    _CONTRACT_VERSIONS,
    recompute_name_keys,
    # Apple Music records the listener's UTC offset per play; stores from before keep NULL (not an identity field).
    "ALTER TABLE plays ADD COLUMN utc_offset_s INTEGER;",
)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a store's tables up to the newest step."""
    run(con, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = con.execute("SELECT max(version) FROM schema_version").fetchall()[0]
    current = (row[0] if row else None) or 0
    for version, step in enumerate(MIGRATIONS, start=1):
        if version > current:
            run(con, "BEGIN TRANSACTION")
            if isinstance(step, str):
                run(con, step)
            else:
                step(con)
            run(con, "INSERT INTO schema_version VALUES (?)", [version])
            run(con, "COMMIT")
    stored = con.execute("SELECT value FROM store_meta WHERE key = 'name_key_version'").fetchall()
    if not stored or int(stored[0][0]) != NAME_KEY_VERSION:
        run(con, "BEGIN TRANSACTION")
        recompute_name_keys(con)
        run(con, "COMMIT")
