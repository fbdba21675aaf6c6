"""Play identity v1: ids computed here, independently, from the documented byte layout, and compared with what the
Python code, the local store and the pool give; fixed vectors pin the layout; new fields of Play change no id."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from tests.conftest import DATA, samples_path
from tutti.coop.contributions.reading import read_upload
from tutti.coop.pool.contract import play_identity
from tutti.identity import IDENTITY_V1_FIELDS, IDENTITY_VERSION, keyed_sql, play_id
from tutti.model import Play, Source, TimePrecision, plays_to_table, table_to_plays
from tutti.store import open_store
from tutti.store.ingest import import_paths

# The layout as the identity module's docstring writes it, re-typed here on purpose: if the code and the
# documentation drift apart, these tests fail.
FIELDS = [
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
]


def layout_text(value: object) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return str((value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1))
    return str(value)


def independent_id(play: Play, ordinal: int = 1) -> str:
    text = "\x1f".join(layout_text(getattr(play, name)) for name in FIELDS)
    if play.time_precision is TimePrecision.MINUTE:
        text += "\x1e" + str(ordinal)
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def plays_in_order(table: pa.Table) -> list[tuple[Play, int]]:
    """Each play with its ordinal among identical minute-precision records (by file, then record index)."""
    seen: dict[str, int] = {}
    out = []
    for play in sorted(table_to_plays(table), key=lambda p: (p.source_file, p.record_index)):
        text = "\x1f".join(layout_text(getattr(play, name)) for name in FIELDS)
        seen[text] = seen.get(text, 0) + 1
        out.append((play, seen[text] if play.time_precision is TimePrecision.MINUTE else 1))
    return out


VECTOR_PLAYS = [
    Play(
        source=Source.SPOTIFY_EXTENDED,
        source_file="Streaming_History_Audio_2024_4.json",
        record_index=0,
        end_utc=datetime(2024, 8, 20, 19, 2, 11, tzinfo=UTC),
        ms_played=187_000,
        track="Espresso",
        artist="Sabrina Carpenter",
        album="Espresso",
        spotify_uri="spotify:track:2qSkIjg1o9h3YT9RAgYN75",
        platform_raw="android",
        country="DE",
        reason_start="trackdone",
        reason_end="trackdone",
        shuffle=False,
        skipped_raw=False,
        offline=False,
        offline_utc=datetime(2024, 8, 20, 18, 59, 4, tzinfo=UTC),
        incognito=False,
    ),
    Play(
        source=Source.SPOTIFY_ACCOUNT,
        source_file="StreamingHistory0.json",
        record_index=7,
        end_utc=datetime(2020, 3, 24, 0, 59, tzinfo=UTC),
        ms_played=0,
        time_precision=TimePrecision.MINUTE,
        track="Город",
        artist="Ансамбль Весёлые ребята",
    ),
    Play(
        source=Source.LASTFM,
        source_file="lastfm_scrobbles.csv",
        record_index=3,
        start_utc=datetime(2020, 11, 20, 9, 35, tzinfo=UTC),
        time_precision=TimePrecision.MINUTE,
        track="さよならメモリー",
        artist="AKB48",
    ),
]
# Computed once from the layout and pinned: any change to the layout, the field list or the hash changes them.
PINNED = [
    "8674610c72c4d92c29f5c8cf29af0c92",
    "cefce99645b2c97797c323d605bc0f5e",
    "02fe27bf3330afc6ccdf203f4d6780a5",
]


def test_the_field_list_is_the_documented_one() -> None:
    assert IDENTITY_VERSION == 1
    assert list(IDENTITY_V1_FIELDS) == FIELDS


def test_fixed_vectors() -> None:
    ids = [independent_id(play) for play in VECTOR_PLAYS]
    assert ids == PINNED
    assert [play_id(play) for play in VECTOR_PLAYS] == PINNED
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("staged", plays_to_table(VECTOR_PLAYS))
    rows = con.execute(f"SELECT record_index, play_id FROM ({keyed_sql('staged')}) ORDER BY record_index").fetchall()
    assert [pid for _, pid in rows] == [PINNED[0], PINNED[2], PINNED[1]]


def test_minute_precision_twins_are_told_apart_by_their_order() -> None:
    twin = VECTOR_PLAYS[1]
    second = Play(**{**{f: getattr(twin, f) for f in twin.__dataclass_fields__}, "record_index": 8})
    assert play_id(twin, 1) == independent_id(twin, 1) != play_id(second, 2) == independent_id(second, 2)
    con = duckdb.connect()
    con.register("staged", plays_to_table([second, twin]))
    ids = dict(con.execute(f"SELECT record_index, play_id FROM ({keyed_sql('staged')})").fetchall())
    assert ids == {7: independent_id(twin, 1), 8: independent_id(second, 2)}


def test_a_new_field_of_play_changes_no_id() -> None:
    @dataclass(frozen=True, slots=True)
    class PlayWithMood(Play):
        mood: str | None = None

    for play, pinned in zip(VECTOR_PLAYS, PINNED, strict=True):
        wider = PlayWithMood(**{f: getattr(play, f) for f in play.__dataclass_fields__}, mood="bright")
        assert play_id(wider) == pinned
    table = plays_to_table(VECTOR_PLAYS)
    wider_table = table.append_column("mood", pa.array(["bright", None, "calm"], pa.string()))
    con = duckdb.connect()
    con.register("narrow", table)
    con.register("wide", wider_table)
    narrow = con.execute(f"SELECT play_id FROM ({keyed_sql('narrow')}) ORDER BY play_id").fetchall()
    wide = con.execute(f"SELECT play_id FROM ({keyed_sql('wide')}) ORDER BY play_id").fetchall()
    assert narrow == wide == sorted((p,) for p in PINNED)


def store_ids(path: Path, home: Path) -> dict[tuple[str, int], str]:
    with open_store(home) as store:
        import_paths(store, "me", [path])
        rows = store.con.execute("SELECT source_file, record_index, play_id FROM plays").fetchall()
    return {(Path(f).name, i): pid for f, i, pid in rows}


def check_export(path: Path, home: Path) -> None:
    upload = read_upload([path])
    expected = {
        (Path(p.source_file).name, p.record_index): independent_id(p, n) for p, n in plays_in_order(upload.table)
    }
    assert expected, path
    stored = store_ids(path, home)
    # The store keeps one of exact second-precision twins; every stored id is the independent one.
    assert all(expected[key] == pid for key, pid in stored.items())
    assert set(stored.values()) == set(expected.values())
    assert set(play_identity(upload.table).column("play_id").to_pylist()) == set(expected.values())


@pytest.mark.parametrize(
    "fixture",
    [
        "spotify_extended/Streaming_History_Audio_2024_1_v2_offline_seconds.json",
        "lastfm/no_header_adjacent_repeats_empty_album.csv",
        "spotify_account/old_era_podcasts_mixed_in",
    ],
)
def test_the_store_and_the_pool_hold_the_independent_ids_of_fixtures(fixture: str, tmp_path: Path) -> None:
    check_export(DATA / fixture, tmp_path)


@pytest.mark.samples
@pytest.mark.parametrize(
    "sample",
    ["spotify-extended/mica-92", "spotify-account/fedecalendino-2021-01", "lastfm/pingw33n", "apple-music/vietvudanh"],
)
def test_the_store_and_the_pool_hold_the_independent_ids_of_real_exports(sample: str, tmp_path: Path) -> None:
    check_export(samples_path(*sample.split("/")), tmp_path)


def test_the_store_records_the_identity_version(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        rows = dict(store.con.execute("SELECT key, value FROM store_meta").fetchall())
    assert json.loads(rows["identity_version"]) == IDENTITY_VERSION
