from __future__ import annotations

import json
import tempfile
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DATA, samples_path
from tests.helpers.importers import read_with
from tutti.errors import ExportError, RecordError
from tutti.importers import ReadOptions, listenbrainz
from tutti.importers._archive import open_export
from tutti.importers.detect import detect
from tutti.model import LibraryItem, LibraryKind, Platform, Play, Source

FIXTURES = DATA / "listenbrainz"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
OPTIONS = ReadOptions(now=NOW)


def _at(seconds: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


def _listen(path: Path, index: int, listened_at: int, **fields: Any) -> Play:
    return Play(
        source=Source.LISTENBRAINZ, source_file=str(path), record_index=index, start_utc=_at(listened_at), **fields
    )


def _zip_export(tmp_path: Path) -> Path:
    """The export zip as ListenBrainz hands it out, built from the checked-in folder."""
    archive = tmp_path / "listenbrainz_example-listener_export.zip"
    folder = FIXTURES / "export_zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            zf.write(file, file.relative_to(folder).as_posix())
    return archive


def test_export_zip_reads_listens_and_feedback_but_never_user_json(tmp_path: Path) -> None:
    archive = _zip_export(tmp_path)
    detected = detect(open_export(archive))
    assert [u.path for u in detected.unread if "personal" in u.reason] == [f"{archive}!user.json"]
    claimed = {e.name for importer, entries in detected.claims if importer.NAME == "listenbrainz" for e in entries}
    assert claimed == {"feedback.jsonl", "listens/2024/1.jsonl", "listens/2025/12.jsonl"}

    result = read_with(listenbrainz, archive, OPTIONS)
    assert result.problems == []
    jan, dec = Path(f"{archive}!listens/2024/1.jsonl"), Path(f"{archive}!listens/2025/12.jsonl")
    assert result.plays == [
        _listen(
            jan,
            0,
            1704110400,
            track="Paper Lanterns",
            artist="The Velvet Orchards",
            album="Lanterns & Ladders",
            duration_ms=214_000,
            recording_mbid="cccccccc-0000-4000-8000-000000000001",
            artist_mbid="aaaaaaaa-0000-4000-8000-000000000001",
            release_mbid="bbbbbbbb-0000-4000-8000-000000000001",
        ),
        # Pano Scrobbler: duration_ms in milliseconds; media_player is the only platform hint.
        _listen(
            jan,
            1,
            1704199800,
            track="Grey Harbour",
            artist="Nils Ostervald",
            album="Tidewater",
            duration_ms=187_500,
            platform=Platform.CAR,
            platform_raw="Android Auto",
        ),
        # Imported from Last.fm: a 2019 listen in a 2025 file, no mapping, an empty release name.
        _listen(dec, 0, 1550646006, track="Snowmelt (feat. Kaito Ren)", artist="Orla Finch"),
        # spotify-importer: a plural "/tracks/" URL becomes a track URI.
        _listen(
            dec,
            1,
            1765000000,
            track="Copper Sky",
            artist="Dune Cartographers",
            album="Atlas of Noon",
            spotify_uri="spotify:track:0123456789abcdefABCDEF",
            recording_mbid="cccccccc-0000-4000-8000-000000000004",
            artist_mbid="aaaaaaaa-0000-4000-8000-000000000004",
            release_mbid="bbbbbbbb-0000-4000-8000-000000000004",
        ),
        # No mbid_mapping: the ids the client sent in additional_info, and a URL with a query string.
        _listen(
            dec,
            2,
            1765003600,
            track="Low Tide Radio",
            artist="Harbour Static",
            duration_ms=201_000,
            spotify_uri="spotify:track:ZYXWVUTSRQPONMLKJIHGFE",
            recording_mbid="cccccccc-0000-4000-8000-000000000005",
            artist_mbid="aaaaaaaa-0000-4000-8000-000000000005",
            release_mbid="bbbbbbbb-0000-4000-8000-000000000005",
            isrc="XXA012500001",
            platform=Platform.OTHER,
            platform_raw="Spotify",
        ),
    ]
    feedback = f"{archive}!feedback.jsonl"
    assert result.library == [
        LibraryItem(
            Source.LISTENBRAINZ,
            feedback,
            LibraryKind.LOVED,
            None,
            uri="musicbrainz:recording:11111111-1111-4111-8111-111111111111",
            added_utc=_at(1704103200),
        ),
        LibraryItem(
            Source.LISTENBRAINZ,
            feedback,
            LibraryKind.HATED,
            None,
            uri="listenbrainz:recording_msid:22222222-2222-4222-8222-222222222222",
            added_utc=_at(1704189600),
        ),
        LibraryItem(
            Source.LISTENBRAINZ,
            feedback,
            LibraryKind.LOVED,
            None,
            uri="musicbrainz:recording:44444444-4444-4444-8444-444444444444",
            added_utc=_at(1704362400),
        ),
    ]
    assert [(s.file, s.reason, s.count) for s in result.skipped] == [(feedback, "feedback withdrawn (score 0)", 1)]


def test_api_shaped_listen_never_stores_the_user_name() -> None:
    path = FIXTURES / "api_single_listen_with_user_name.json"
    result = read_with(listenbrainz, path, OPTIONS)
    assert result.plays == [
        _listen(
            path,
            0,
            1669318360,
            track="Signal Fires",
            artist="Quiet Meridian",
            album="Northbound Lights",
            spotify_uri="spotify:track:4AbCdEfGhIjKlMnOpQrStU",
            recording_mbid="cccccccc-0000-4000-8000-000000000010",
            artist_mbid="aaaaaaaa-0000-4000-8000-000000000010",
            release_mbid="bbbbbbbb-0000-4000-8000-000000000010",
        )
    ]
    assert "example-listener" not in repr(result.table.to_pylist())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("api_listens_array.json", [("Glass Orchard", 199_500, "Firefox", None), ("Pylon Song", None, None, "1Ab")]),
        ("api_response_payload_wrapper_one_line.json", [("Weathervane", None, None, None)]),
        ("listens_jsonl_named_txt.txt", [("Lamplight", 240_000, None, None), ("Candle Smoke", None, None, None)]),
    ],
)
def test_other_listen_files(name: str, expected: list[tuple[str, int | None, str | None, str | None]]) -> None:
    path = FIXTURES / name
    result = read_with(listenbrainz, path, OPTIONS)
    assert result.problems == []
    got = [(p.track, p.duration_ms, p.platform_raw, p.spotify_uri and p.spotify_uri[14:17]) for p in result.plays]
    assert got == expected
    assert [p.record_index for p in result.plays] == list(range(len(expected)))
    assert "example-listener" not in repr(result.table.to_pylist())


def test_impossible_listens_are_problems_naming_file_and_line() -> None:
    path = FIXTURES / "impossible_values.jsonl"
    result = read_with(listenbrainz, path, OPTIONS)
    assert [(p.track, p.record_index) for p in result.plays] == [("Fine Track", 0)]
    assert [(p.file, p.record) for p in result.problems] == [(str(path), f"line {n}") for n in range(2, 9)]
    reasons = [p.reason for p in result.problems]
    assert "before 2000" in reasons[0]
    assert "in the future" in reasons[1]
    assert reasons[2:] == [
        "listened_at is missing or not a unix time",
        "track_name is missing",
        "track_metadata is not an object",
        "is a JSON list, not an object",
        "is neither a listen nor a feedback row",
    ]


def test_bad_feedback_rows_are_problems() -> None:
    path = FIXTURES / "feedback_bad_rows.jsonl"
    result = read_with(listenbrainz, path, OPTIONS)
    assert [item.kind for item in result.library] == [LibraryKind.LOVED]
    assert [(p.record, p.reason) for p in result.problems] == [
        ("line 2", "feedback score 5 is not 1 or -1"),
        ("line 3", "feedback names no recording (no recording_mbid or recording_msid)"),
        ("line 4", "time 1970-01-01T00:00:00+00:00 is before 2000"),
    ]


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("truncated_listens_array.json", ExportError, "is truncated"),
        ("truncated_last_line.jsonl", RecordError, "line 2: is not valid JSON"),
        ("not_utf8_latin1_line.jsonl", RecordError, "line 2: is not UTF-8 text"),
        ("wrong_structure_number.json", ExportError, "should hold a ListenBrainz listen object"),
        ("wrong_structure_payload.json", ExportError, "should hold a ListenBrainz listen object"),
    ],
)
def test_unreadable_files_raise_an_error_naming_the_file(name: str, error: type[Exception], message: str) -> None:
    path = FIXTURES / name
    [entry] = open_export(path)
    with pytest.raises(error) as caught:
        list(listenbrainz.read([entry], OPTIONS))
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_sniff_claims_listenbrainz_files_only() -> None:
    own = [p for p in FIXTURES.rglob("*") if p.is_file() and "wrong_structure" not in p.name]
    claimed = {p.name for p in own if listenbrainz.sniff(p.read_bytes()[:4096], p.name)}
    assert claimed == {p.name for p in own} - {"user.json"}
    others = [p for d in ("apple_music", "youtube_music") for p in (DATA / d).iterdir()]
    assert not [p for p in others if listenbrainz.sniff(p.read_bytes()[:4096], p.name)]


@pytest.mark.samples
def test_sniff_claims_no_other_format_sample() -> None:
    others = [p for p in samples_path().rglob("*") if p.is_file() and "listenbrainz" not in p.parts]
    assert others
    assert not [p for p in others if listenbrainz.sniff(p.read_bytes()[:4096], p.name)]


def _expected_from_raw(record: dict[str, Any]) -> dict[str, object]:
    meta = record["track_metadata"]
    assert isinstance(meta, dict)
    mapping = meta.get("mbid_mapping") or {}
    info = meta.get("additional_info") or {}
    duration = info.get("duration_ms", info["duration"] * 1000 if "duration" in info else None)
    return {
        "start_utc": _at(int(record["listened_at"])),
        "track": meta["track_name"],
        "artist": meta["artist_name"],
        "album": meta.get("release_name"),
        "recording_mbid": mapping.get("recording_mbid"),
        "artist_mbid": (mapping.get("artist_mbids") or [None])[0],
        "release_mbid": mapping.get("release_mbid"),
        "duration_ms": duration,
    }


@pytest.mark.samples
@pytest.mark.parametrize(
    "name",
    ["docstring_excerpt__listens_YYYY_M.EXCERPT.jsonl", "rust_test_fixture__single_listen_api_shape.EXCERPT.json"],
)
def test_sample_listens(name: str) -> None:
    path = samples_path("listenbrainz", name)
    text = path.read_text(encoding="utf-8")
    raw = [json.loads(line) for line in text.splitlines()] if name.endswith(".jsonl") else [json.loads(text)]
    result = read_with(listenbrainz, path, OPTIONS)
    assert result.problems == [] and result.skipped == []
    plays = result.plays
    assert len(plays) == len(raw)
    for index, (play, record) in enumerate(zip(plays, raw, strict=True)):
        expected = _expected_from_raw(record)
        assert {key: getattr(play, key) for key in expected} == expected
        assert (play.record_index, play.ms_played, play.end_utc, play.source) == (
            index,
            None,
            None,
            Source.LISTENBRAINZ,
        )
    assert min(p.start_utc for p in plays if p.start_utc) == min(_at(r["listened_at"]) for r in raw)
    for record in raw:
        assert "user_name" not in record or record["user_name"] not in repr(result.table.to_pylist())
    if name.startswith("rust"):
        # "https://open.spotify.com/tracks/<id>" in spotify_id
        assert (
            plays[0].spotify_uri == "spotify:track:" + raw[0]["track_metadata"]["additional_info"]["spotify_id"][-22:]
        )


@pytest.mark.samples
def test_sample_feedback() -> None:
    path = samples_path("listenbrainz", "docstring_excerpt__feedback.EXCERPT.jsonl")
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    result = read_with(listenbrainz, path, OPTIONS)
    assert result.plays == [] and result.problems == []
    kinds = {1: LibraryKind.LOVED, -1: LibraryKind.HATED}
    assert result.library == [
        LibraryItem(
            Source.LISTENBRAINZ,
            str(path),
            kinds[r["score"]],
            None,
            uri=f"musicbrainz:recording:{r['recording_mbid']}",
            added_utc=_at(r["created"]),
        )
        for r in raw
    ]


# Names as the importer keeps them: surrounding blanks are dropped, so generate them already stripped.
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1).map(str.strip).filter(bool)
_MBID = st.uuids().map(str)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "listened_at": st.integers(946_684_800, 1_767_139_200),
                "track": _TEXT,
                "artist": _TEXT,
                "album": st.none() | _TEXT,
                "duration_ms": st.none() | st.integers(0, 3_600_000),
                "recording_mbid": st.none() | _MBID,
                "artist_mbid": st.none() | _MBID,
            }
        ),
        min_size=1,
        max_size=20,
    )
)
def test_random_listens_round_trip(listens: list[dict[str, Any]]) -> None:
    lines = []
    for listen in listens:
        meta: dict[str, object] = {"track_name": listen["track"], "artist_name": listen["artist"]}
        if listen["album"] is not None:
            meta["release_name"] = listen["album"]
        if listen["recording_mbid"] is not None:
            meta["mbid_mapping"] = {"recording_mbid": listen["recording_mbid"], "artist_mbids": [listen["artist_mbid"]]}
        if listen["duration_ms"] is not None:
            meta["additional_info"] = {"duration_ms": listen["duration_ms"]}
        lines.append(json.dumps({"listened_at": listen["listened_at"], "track_metadata": meta}))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "listens" / "2024" / "3.jsonl"
        path.parent.mkdir(parents=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        plays = read_with(listenbrainz, path, OPTIONS).plays
    assert plays == [
        _listen(
            path,
            i,
            int(listen["listened_at"]),
            track=listen["track"],
            artist=listen["artist"],
            album=listen["album"],
            duration_ms=listen["duration_ms"],
            recording_mbid=listen["recording_mbid"],
            artist_mbid=listen["artist_mbid"] if listen["recording_mbid"] else None,
        )
        for i, listen in enumerate(listens)
    ]
