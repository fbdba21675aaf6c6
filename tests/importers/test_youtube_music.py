from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DATA, samples_path
from tests.helpers.importers import read_with
from tutti.errors import ExportError
from tutti.importers import ReadOptions, youtube_music
from tutti.importers._archive import open_export
from tutti.model import ContentKind, Play, Source

FIXTURES = DATA / "youtube_music"
OPTIONS = ReadOptions(now=datetime(2026, 1, 1, tzinfo=UTC))
NOT_STORED = ("details", "description", "activityControls", "titleUrl")


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _play(path: Path, index: int, when: str, track: str | None, artist: str | None, kind: ContentKind) -> Play:
    return Play(
        source=Source.YOUTUBE_MUSIC,
        source_file=str(path),
        record_index=index,
        start_utc=_t(when),
        track=track,
        artist=artist,
        content_kind=kind,
    )


def _not_stored(path: Path, stored: str) -> None:
    """Nothing but the title, channel and time of a row reaches the store."""
    for record in json.loads(path.read_text(encoding="utf-8")):
        for key in NOT_STORED:
            if key in record:
                assert json.dumps(record[key], ensure_ascii=False).strip('"[]{}') not in stored


def test_music_rows_of_a_mixed_watch_history() -> None:
    path = FIXTURES / "watch_history_music_and_video_rows.json"
    result = read_with(youtube_music, path, OPTIONS)
    music = ContentKind.MUSIC
    assert result.plays == [
        _play(path, 0, "2025-01-08T09:33:52.286Z", "Paper Lanterns", "The Velvet Orchards", music),
        # An official channel, not "- Topic", and a time without milliseconds: still music.
        _play(path, 2, "2025-01-07T21:19:08Z", "Glasshouse (Official Music Video)", "Dune Cartographers", music),
        # "Watched <url>": the title was unavailable; the listen is kept, unnamed.
        _play(path, 3, "2025-01-07T18:50:56.460Z", None, None, ContentKind.UNKNOWN),
        # Only a trailing " - Topic" is the channel suffix; the title keeps its own.
        _play(path, 7, "2025-01-05T23:59:59.999Z", "Île de Lumière - Topic Mix", "Café Ostinato", music),
    ]
    assert result.problems == []
    assert {s.reason: s.count for s in result.skipped} == {
        "not YouTube Music": 3,
        "advertisement": 1,
        "not a 'Watched' row": 1,
    }
    _not_stored(path, repr(result.table.to_pylist()))


def test_2020_export_without_activity_controls() -> None:
    path = FIXTURES / "watch_history_2020_no_activity_controls.json"
    result = read_with(youtube_music, path, OPTIONS)
    assert result.plays == [
        _play(path, 0, "2020-09-08T02:41:27.398Z", "Salt Roads", "Mira Solenne", ContentKind.MUSIC),
        _play(path, 2, "2020-09-01T12:00:00Z", "Copper Bells", "Nils Ostervald", ContentKind.MUSIC),
    ]
    assert result.skipped_count("not YouTube Music") == 1


def test_impossible_values_are_problems_naming_the_record() -> None:
    path = FIXTURES / "impossible_values.json"
    result = read_with(youtube_music, path, OPTIONS)
    assert [(p.record_index, p.track, p.artist) for p in result.plays] == [
        (0, "Fine Song", "Fine Artist"),
        (6, "Odd Subtitles", None),
    ]
    assert [(p.file, p.record) for p in result.problems] == [(str(path), f"record {n}") for n in range(1, 6)]
    reasons = [p.reason for p in result.problems]
    assert "before 2000" in reasons[0]
    assert "in the future" in reasons[1]
    assert reasons[2:] == [
        "time None is not an ISO time with a zone",
        "time '2024-06-01T12:00:00' is not an ISO time with a zone",
        "is a JSON str, not an object",
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("truncated.json", "is truncated: the JSON ends early"),
        ("not_utf8_latin1_title.json", "is not UTF-8 text (byte 50, line 1)"),
        ("wrong_structure_object.json", "should hold a JSON array of records but holds a dict"),
    ],
)
def test_unreadable_files_raise_an_error_naming_the_file(name: str, message: str) -> None:
    path = FIXTURES / name
    [entry] = open_export(path)
    with pytest.raises(ExportError) as caught:
        list(youtube_music.read([entry], OPTIONS))
    assert str(caught.value).startswith(f"{path}: {message}")


def test_sniff_claims_watch_histories_only() -> None:
    def claimed(paths: list[Path]) -> set[str]:
        return {p.name for p in paths if youtube_music.sniff(p.read_bytes()[:4096], p.name)}

    own = list(FIXTURES.iterdir())
    assert claimed(own) == {p.name for p in own} - {
        "wrong_structure_object.json",
        "search_history_not_watch_history.json",
    }
    others = [p for d in ("listenbrainz", "apple_music") for p in (DATA / d).rglob("*") if p.is_file()]
    assert claimed(others) == set()


@pytest.mark.samples
def test_sniff_claims_no_other_format_sample() -> None:
    others = [p for p in samples_path().rglob("*") if p.is_file() and "youtube-music" not in p.parts]
    assert others
    assert not [p for p in others if youtube_music.sniff(p.read_bytes()[:4096], p.name)]


@pytest.mark.samples
@pytest.mark.parametrize("owner", ["case104", "tunaerol"])
def test_sample_watch_history_reads_exactly(owner: str) -> None:
    path = samples_path("youtube-music", owner, "watch-history.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    music = [(i, r) for i, r in enumerate(raw) if r["header"] == "YouTube Music"]
    result = read_with(youtube_music, path, OPTIONS)
    plays = result.plays

    assert result.problems == []
    assert len(plays) == len(music)
    assert result.skipped_count("not YouTube Music") == len(raw) - len(music)
    assert result.skipped_count() == len(raw) - len(music)
    assert all(p.ms_played is None and p.end_utc is None for p in plays)
    if music:
        assert min(p.start_utc for p in plays if p.start_utc) == min(_t(r["time"]) for _, r in music)
        assert max(p.start_utc for p in plays if p.start_utc) == max(_t(r["time"]) for _, r in music)
    for play, (index, record) in zip(plays, music, strict=True):
        title = record["title"].removeprefix("Watched ")
        unnamed = title.startswith("https://")
        channel = record["subtitles"][0]["name"] if "subtitles" in record else None
        expected = _play(
            path,
            index,
            record["time"],
            None if unnamed else title,
            channel[: -len(" - Topic")] if channel and channel.endswith(" - Topic") else channel,
            ContentKind.UNKNOWN if unnamed else ContentKind.MUSIC,
        )
        assert play == expected
    _not_stored(path, repr(result.table.to_pylist()))


@pytest.mark.samples
def test_sample_counts_as_measured() -> None:
    path = samples_path("youtube-music", "tunaerol", "watch-history.json")
    plays = read_with(youtube_music, path, OPTIONS).plays
    assert len(plays) == 727
    assert sum(1 for p in plays if p.track is None) == 4


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1).map(str.strip).filter(bool)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            # Titles Takeout writes when the real one is unavailable are covered by the fixtures.
            _TEXT.filter(lambda t: not t.startswith(("http://", "https://")) and t != "a video that has been removed"),
            st.none() | _TEXT,
            st.booleans(),
            st.datetimes(datetime(2015, 1, 1), datetime(2025, 12, 1)),
            st.booleans(),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_random_rows_round_trip(rows: list[tuple[str, str | None, bool, datetime, bool]]) -> None:
    records = []
    for title, channel, topic, when, millis in rows:
        record: dict[str, object] = {
            "header": "YouTube Music",
            "title": f"Watched {title}",
            "titleUrl": "https://music.youtube.com/watch?v=AAAAAAAAAAA",
            "time": when.isoformat(timespec="milliseconds" if millis else "seconds") + "Z",
            "products": ["YouTube"],
            "activityControls": ["YouTube watch history"],
        }
        if channel is not None:
            record["subtitles"] = [{"name": f"{channel} - Topic" if topic else channel, "url": "https://example.org"}]
        records.append(record)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "watch-history.json"
        path.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
        plays = read_with(youtube_music, path, OPTIONS).plays
    expected = []
    for i, (title, channel, topic, when, millis) in enumerate(rows):
        start = when.replace(microsecond=when.microsecond // 1000 * 1000 if millis else 0, tzinfo=UTC)
        artist = channel if topic or channel is None else channel.removesuffix(" - Topic").strip() or None
        expected.append(
            Play(
                source=Source.YOUTUBE_MUSIC,
                source_file=str(path),
                record_index=i,
                start_utc=start,
                track=title,
                artist=artist,
            )
        )
    assert plays == expected
