from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import DATA, samples_path
from tests.helpers.importers import read_with
from tutti.errors import ExportError
from tutti.importers import ReadOptions, spotify_extended
from tutti.importers.spotify_extended import _derived_skips
from tutti.model import ContentKind, Platform, ProblemKind, derive_skipped

FIXTURES = DATA / "spotify_extended"
BAD = DATA / "bad"
IDENTIFYING_KEYS = ("username", "ip_addr", "ip_addr_decrypted", "user_agent_decrypted")


def _end(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _distinct_kept(records: list[dict[str, object]], *, include_incognito: bool = False) -> list[dict[str, object]]:
    """Independent expectation: identical records are one play; incognito plays are left out by default."""
    seen: dict[str, dict[str, object]] = {}
    for r in records:
        if r.get("incognito_mode") and not include_incognito:
            continue
        seen.setdefault(json.dumps(r, sort_keys=True), r)
    return list(seen.values())


SAMPLE_FILES = [
    ("candidlyred", "endsong.json"),
    ("mica-92", "Streaming_History_Audio_2015.json"),
    ("mica-92", "Streaming_History_Audio_2024_4.json"),
    ("alanindra", "Streaming_History_Video_2022-2026.json"),
    ("efrrowini", "Streaming_History_Audio_2022.json"),
    ("efrrowini", "Streaming_History_Video_2023.json"),
]


@pytest.mark.samples
@pytest.mark.parametrize(("owner", "name"), SAMPLE_FILES)
def test_every_sample_file_reads_exactly(owner: str, name: str) -> None:
    path = samples_path("spotify-extended", owner, name)
    raw = json.loads(path.read_text(encoding="utf-8"))
    result = read_with(spotify_extended, path)
    plays = result.plays
    incognito = sum(1 for r in raw if r.get("incognito_mode"))

    assert result.problems == []
    assert len(plays) == len(raw) - incognito
    assert result.skipped_count("incognito") == incognito
    assert sum(p.ms_played or 0 for p in plays) == sum(r["ms_played"] for r in raw if not r.get("incognito_mode"))
    kept = [r for r in raw if not r.get("incognito_mode")]
    for play, record in zip(plays, kept, strict=True):
        assert play.end_utc == _end(record["ts"])
        assert play.start_utc == play.end_utc - timedelta(milliseconds=record["ms_played"])
        if record["master_metadata_track_name"] is not None:
            assert play.content_kind is ContentKind.MUSIC
            assert (play.track, play.artist, play.album, play.spotify_uri) == (
                record["master_metadata_track_name"],
                record["master_metadata_album_artist_name"],
                record["master_metadata_album_album_name"],
                record["spotify_track_uri"],
            )
        elif record["episode_name"] is not None:
            assert play.content_kind is ContentKind.PODCAST
            assert (play.track, play.artist) == (record["episode_name"], record["episode_show_name"])
        else:
            assert play.content_kind is ContentKind.UNKNOWN
        assert (play.reason_start, play.reason_end, play.shuffle) == (
            record["reason_start"],
            record["reason_end"],
            record["shuffle"],
        )
        assert play.skipped_raw == record["skipped"]
        assert play.platform_raw == record["platform"]
        assert play.country == record["conn_country"]


@pytest.mark.samples
def test_candidlyred_null_content_rows_are_kept_as_unknown() -> None:
    path = samples_path("spotify-extended", "candidlyred", "endsong.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    null_rows = [r for r in raw if r["master_metadata_track_name"] is None and r["episode_name"] is None]
    plays = read_with(spotify_extended, path).plays
    unknown = [p for p in plays if p.content_kind is ContentKind.UNKNOWN]
    assert len(null_rows) == 20
    assert len(unknown) == 20
    assert sum(p.ms_played or 0 for p in unknown) == sum(r["ms_played"] for r in null_rows)


def test_v1_fixture_maps_every_quirk() -> None:
    result = read_with(spotify_extended, FIXTURES / "endsong_0_v1_unordered_null_content_cast_duplicate.json")
    plays = result.plays
    assert result.skipped_count("incognito") == 1
    assert len(plays) == 6  # the exact duplicate pair is still two records here; the store folds it
    first = plays[0]
    assert first.offline_utc == datetime(2019, 5, 2, 10, 0, 9, tzinfo=UTC)  # 13-digit ms timestamp
    assert first.platform is Platform.ANDROID
    early = plays[1]
    assert early.reason_start == ""
    assert early.skipped is True and early.offline_utc is None  # offline_timestamp 0 means unknown
    assert plays[2].content_kind is ContentKind.UNKNOWN and plays[2].track is None
    episode = plays[3]
    assert (episode.content_kind, episode.track, episode.artist) == (
        ContentKind.PODCAST,
        "Episode 12: Maps",
        "Cartography Talk",
    )
    assert episode.spotify_uri == "spotify:episode:3333333333333333333333"
    assert plays[4].platform is Platform.CAST and plays[4].country == "ZZ"


def test_nothing_identifying_is_kept() -> None:
    result = read_with(spotify_extended, FIXTURES)
    text = json.dumps(result.table.to_pylist(), default=str)
    for secret in ("example-user", "192.0.2.10", "2001:db8"):
        assert secret not in text


def test_v2_offline_timestamp_in_seconds() -> None:
    plays = read_with(spotify_extended, FIXTURES / "Streaming_History_Audio_2024_1_v2_offline_seconds.json").plays
    assert plays[0].offline_utc == datetime.fromtimestamp(1722614450, UTC)
    assert plays[0].platform is Platform.DESKTOP
    assert plays[1].skipped is True


def test_incognito_kept_only_when_asked() -> None:
    path = FIXTURES / "Streaming_History_Audio_2024_1_v2_offline_seconds.json"
    assert len(read_with(spotify_extended, path).plays) == 2
    assert len(read_with(spotify_extended, path, ReadOptions(include_incognito=True)).plays) == 3


def test_impossible_values_are_named_and_skipped() -> None:
    result = read_with(spotify_extended, BAD / "Streaming_History_Audio_impossible_values.json")
    assert result.plays == []
    reasons = {p.record: p.reason for p in result.problems}
    assert set(reasons) == {"record 0", "record 1", "record 2"}
    assert "yesterday" in reasons["record 0"]
    assert "negative" in reasons["record 1"]
    assert "future" in reasons["record 2"]
    assert [p.kind for p in result.problems] == [
        ProblemKind.INVALID_TIME,
        ProblemKind.NEGATIVE_DURATION,
        ProblemKind.IMPLAUSIBLE_TIME,
    ]
    assert all(p.file.endswith("Streaming_History_Audio_impossible_values.json") for p in result.problems)


@pytest.mark.parametrize(
    ("name", "message"),
    [("Streaming_History_Audio_truncated.json", "truncated"), ("Streaming_History_Audio_not_utf8.json", "UTF-8")],
)
def test_unreadable_files_raise_a_clear_error(name: str, message: str) -> None:
    with pytest.raises(ExportError) as info:
        read_with(spotify_extended, BAD / name)
    assert name in str(info.value)
    assert message in str(info.value)


def test_sniff_is_by_content(tmp_path: Path) -> None:
    renamed = tmp_path / "whatever.json"
    renamed.write_bytes((FIXTURES / "Streaming_History_Video_2023_v3_music_and_episodes.json").read_bytes())
    assert spotify_extended.sniff(renamed.read_bytes()[:4096], renamed.name)
    assert not spotify_extended.sniff(b'[{"endTime": "2020-01-01 00:00", "msPlayed": 1}]', "StreamingHistory0.json")


_reasons = st.sampled_from([None, "", "fwdbtn", "backbtn", "trackdone", "endplay", "logout"])


@given(st.lists(st.tuples(st.sampled_from([None, True, False]), _reasons), min_size=1, max_size=40))
def test_vectorised_skip_rule_matches_the_model(rows: list[tuple[bool | None, str | None]]) -> None:
    raw = pa.array([r[0] for r in rows], pa.bool_())
    reason = pa.array([r[1] for r in rows], pa.string())
    assert _derived_skips(raw, reason).to_pylist() == [derive_skipped(a, b) for a, b in rows]


@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2025, 1, 1)),
            st.integers(min_value=0, max_value=10_000_000),
            st.text(min_size=1, max_size=30),
            st.text(min_size=1, max_size=30),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_generated_records_read_back_field_by_field(rows: list[tuple[datetime, int, str, str]]) -> None:
    records = [
        {
            "ts": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "platform": "ios",
            "ms_played": ms,
            "conn_country": "SE",
            "ip_addr": "192.0.2.1",
            "master_metadata_track_name": track,
            "master_metadata_album_artist_name": artist,
            "master_metadata_album_album_name": None,
            "spotify_track_uri": "spotify:track:x",
            "episode_name": None,
            "episode_show_name": None,
            "spotify_episode_uri": None,
            "reason_start": "clickrow",
            "reason_end": "trackdone",
            "shuffle": False,
            "skipped": False,
            "offline": False,
            "offline_timestamp": None,
            "incognito_mode": False,
        }
        for when, ms, track, artist in rows
    ]
    items = list(spotify_extended.read_records("gen.json", records, ReadOptions()))
    plays = [p for item in items if hasattr(item, "table") for p in item.table.to_pylist()]
    assert len(plays) == len(records)
    for play, (when, ms, track, artist) in zip(plays, rows, strict=True):
        end = when.replace(microsecond=0, tzinfo=UTC)
        assert play["end_utc"] == end
        assert play["start_utc"] == end - timedelta(milliseconds=ms)
        assert (play["ms_played"], play["track"], play["artist"]) == (ms, track, artist)
