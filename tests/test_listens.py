"""The exchange format: what Tutti exports as listens, Tutti (and ListenBrainz's shape) reads back."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.conftest import DATA
from tutti.listens import LISTEN_FORMAT_VERSION
from tutti.store import open_store
from tutti.store.export import export_jsonl
from tutti.store.ingest import import_paths

EXPORT = DATA / "spotify_extended" / "Streaming_History_Audio_2024_1_v2_offline_seconds.json"


def _plays(home: Path, profile: str) -> set[tuple[str | None, str | None, int]]:
    with open_store(home) as store:
        second = "floor(epoch(coalesce(start_utc, end_utc)))::BIGINT"
        rows = store.con.execute(f"SELECT artist, track, {second} FROM ({store.active_plays_sql(profile)})").fetchall()
    return {(a, t, int(s)) for a, t, s in rows}


def test_exported_listens_import_back_as_the_same_plays(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with open_store(home) as store:
        import_paths(store, "me", [EXPORT])
        out = tmp_path / "plays.jsonl"
        written = export_jsonl(store, "me", out)
    listens = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(listens) == written > 0
    info = listens[0]["track_metadata"]["additional_info"]
    assert info["submission_client"] == "tutti" and info["submission_client_version"] == str(LISTEN_FORMAT_VERSION)
    with open_store(home) as store:
        (report,) = import_paths(store, "again", [out])
    assert report.formats == {"listenbrainz": 1} and report.added == written
    assert _plays(home, "again") == _plays(home, "me")
