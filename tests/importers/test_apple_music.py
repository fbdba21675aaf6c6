from __future__ import annotations

import csv
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DATA, samples_path
from tests.helpers.importers import read_with
from tutti.errors import ExportError
from tutti.importers import ReadOptions, apple_music
from tutti.importers._archive import open_export
from tutti.model import IMPLAUSIBLE_KINDS, ContentKind, Platform, Play, ProblemKind, Source

FIXTURES = DATA / "apple_music"
OPTIONS = ReadOptions(now=datetime(2026, 1, 1, tzinfo=UTC))
IDENTIFYING = ("Apple Id Number", "Device Identifier", "Metrics Bucket Id", "Metrics Client Id", "Build Version")


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fp:
        return list(csv.DictReader(fp))


def _kind_of_row(row: dict[str, str]) -> str:
    """Independent expectation: "play", "problem", or the skip reason, from the raw columns."""
    if row.get("Event Type", "") not in ("", "PLAY_END"):
        return f"{row['Event Type']} event, not a play"
    if row.get("Item Type") == "AGGREGATE_NON_CATALOG_PLAY_TIME":
        return "aggregate play time of non-catalog media, not a play"
    if row.get("Item Type") == "AD":
        return "advertisement"
    if row.get("End Reason Type") in ("SCRUB_BEGIN", "SCRUB_END"):
        return "scrub (seek) event, not a play"
    if not row.get("Content Name", row.get("Song Name")):
        return "no title"
    if float(row["Play Duration Milliseconds"]) < 0:
        return "problem"
    return "play"


def _play(path: Path, index: int, row: dict[str, str], **fields: object) -> Play:
    """The play a raw row should become, apart from ``fields`` that the test states itself."""
    values: dict[str, object] = {
        "start_utc": _t(row["Event Start Timestamp"]) if row["Event Start Timestamp"] else None,
        "end_utc": _t(row["Event End Timestamp"]) if row["Event End Timestamp"] else None,
        "ms_played": int(float(row["Play Duration Milliseconds"])),
        "track": row["Content Name"],
        "artist": row["Artist Name"] or None,
        "duration_ms": int(float(row["Media Duration In Milliseconds"]))
        if row["Media Duration In Milliseconds"]
        else None,
        "reason_end": row["End Reason Type"] or None,
        "skipped": row["End Reason Type"].startswith("TRACK_SKIPPED") if row["End Reason Type"] else None,
        "offline": {"True": True, "False": False}.get(row["Offline"]),
        "utc_offset_s": round(float(row["UTC Offset In Seconds"])) if row["UTC Offset In Seconds"] else None,
    }
    values.update(fields)
    return Play(source=Source.APPLE_MUSIC, source_file=str(path), record_index=index, **values)  # type: ignore[arg-type]


def test_every_row_kind_of_the_synthetic_export() -> None:
    path = FIXTURES / "play_activity_every_row_kind.csv"
    rows = _rows(path)
    result = read_with(apple_music, path, OPTIONS)
    desktop = {"platform": Platform.DESKTOP, "platform_raw": "macOS"}
    assert result.plays == [
        _play(path, 0, rows[0], **desktop),
        _play(path, 1, rows[1], platform=Platform.IOS, platform_raw="iOS"),
        # Times without milliseconds, an empty Offline.
        _play(path, 2, rows[2]),
        # FAILED_TO_LOAD with 0 ms is still stored: the raw reason tells it apart.
        _play(path, 10, rows[10]),
        _play(path, 11, rows[11], content_kind=ContentKind.VIDEO),
        # No start: derived from the end and the played duration.
        _play(path, 12, rows[12], start_utc=_t("2017-05-06T12:00:00+00:00")),
        # No start or end: the end is Event Received minus Milliseconds Since Play.
        _play(path, 13, rows[13], end_utc=_t("2017-05-06T13:03:00+00:00"), start_utc=_t("2017-05-06T13:02:00+00:00")),
        _play(path, 14, rows[14]),
        _play(path, 15, rows[15], platform=Platform.DESKTOP, platform_raw="Windows"),
        _play(path, 16, rows[16], platform=Platform.ANDROID, platform_raw="Android"),
    ]
    assert rows[15]["Content Name"] == 'Hello, "Goodbye"' and rows[16]["Artist Name"] == "Café Ostinato"
    # Apple's own fault (rows without a start), not a made-up value: not counted as implausible.
    assert [(p.record, p.kind, p.reason) for p in result.problems] == [
        ("line 11", ProblemKind.KNOWN_EXPORT_FAULT, "negative Play Duration Milliseconds (-11)")
    ]
    assert not IMPLAUSIBLE_KINDS & {p.kind for p in result.problems}
    assert {s.reason: s.count for s in result.skipped} == {
        "scrub (seek) event, not a play": 2,
        "LYRIC_DISPLAY event, not a play": 1,
        "aggregate play time of non-catalog media, not a play": 1,
        "advertisement": 1,
        "no title": 1,
    }
    stored = repr(result.table.to_pylist())
    for column in IDENTIFYING:
        assert all(row[column] not in stored for row in rows if row[column])
    assert "Atlantis" not in stored
    # The listener's clock at each play is kept: the recap's local time needs it.
    assert {p.utc_offset_s for p in result.plays} == {3600}


def test_later_export_with_song_name_and_album_name() -> None:
    path = FIXTURES / "song_name_album_name_columns.csv"
    result = read_with(apple_music, path, OPTIONS)
    assert [
        (p.track, p.artist, p.album, p.ms_played, p.duration_ms, p.offline, p.platform_raw) for p in result.plays
    ] == [
        ("Paper Lanterns", None, "Lanterns & Ladders", 180_000, 180_000, False, "macOS"),
        ("Grey Harbour", None, None, 10_000, 200_000, None, None),
    ]
    assert result.problems == [] and result.skipped == []


def test_impossible_values_are_problems_naming_the_line() -> None:
    path = FIXTURES / "impossible_values.csv"
    result = read_with(apple_music, path, OPTIONS)
    assert [p.track for p in result.plays] == ["Lantern Field"]
    assert [p.record for p in result.problems] == [f"line {n}" for n in range(3, 9)]
    assert all(p.file == str(path) for p in result.problems)
    reasons = [p.reason for p in result.problems]
    assert "before 2000" in reasons[0]
    assert "more than 24 hours" in reasons[1]
    assert "in the future" in reasons[2]
    assert reasons[3:] == [
        "Play Duration Milliseconds 'sixty seconds' is not a number",
        "Event Start Timestamp 'yesterday' is not an ISO time with a time zone",
        "has no event time",
    ]


def test_truncated_last_row_is_a_problem_naming_the_line() -> None:
    path = FIXTURES / "truncated_last_row.csv"
    result = read_with(apple_music, path, OPTIONS)
    assert len(result.plays) == 1
    [problem] = result.problems
    assert (problem.file, problem.record) == (str(path), "line 3")
    assert problem.reason.startswith("has 11 fields, the header has 44")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("not_utf8_latin1_title.csv", "is not UTF-8 text (byte "),
        ("missing_title_column.csv", "is not an Apple Music Play Activity file (no column Content Name)"),
    ],
)
def test_unreadable_files_raise_an_error_naming_the_file(name: str, message: str) -> None:
    path = FIXTURES / name
    [entry] = open_export(path)
    with pytest.raises(ExportError) as caught:
        list(apple_music.read([entry], OPTIONS))
    assert str(caught.value).startswith(f"{path}: {message}")


def test_sniff_claims_play_activity_files_only() -> None:
    own = [p for p in FIXTURES.iterdir() if p.name != "missing_title_column.csv"]
    assert all(apple_music.sniff(p.read_bytes()[:4096], p.name) for p in own)
    others = [p for d in ("listenbrainz", "youtube_music") for p in (DATA / d).rglob("*") if p.is_file()]
    assert not [p for p in others if apple_music.sniff(p.read_bytes()[:4096], p.name)]


@pytest.mark.samples
def test_sniff_claims_no_other_format_sample() -> None:
    others = [p for p in samples_path().rglob("*") if p.is_file() and "apple-music" not in p.parts]
    assert others
    assert not [p for p in others if apple_music.sniff(p.read_bytes()[:4096], p.name)]


@pytest.mark.samples
def test_sample_export_reads_exactly() -> None:
    path = samples_path("apple-music", "vietvudanh", "Apple Music Play Activity.csv")
    rows = _rows(path)
    kinds = [_kind_of_row(row) for row in rows]
    plays_raw = [(i, row) for i, (row, kind) in enumerate(zip(rows, kinds, strict=True)) if kind == "play"]
    result = read_with(apple_music, path, OPTIONS)
    plays = result.plays

    assert len(plays) == len(plays_raw)
    assert [p.record_index for p in plays] == [i for i, _ in plays_raw]
    assert sum(p.ms_played or 0 for p in plays) == sum(
        int(float(r["Play Duration Milliseconds"])) for _, r in plays_raw
    )
    starts = [
        _t(r["Event End Timestamp"]) - timedelta(milliseconds=float(r["Play Duration Milliseconds"]))
        for _, r in plays_raw
    ]
    assert min(p.start_utc for p in plays if p.start_utc) == min(starts)
    assert max(p.end_utc for p in plays if p.end_utc) == max(_t(r["Event End Timestamp"]) for _, r in plays_raw)
    # No record of the sample spans lines, so line N is data row N - 2.
    assert [p.record for p in result.problems] == [f"line {i + 2}" for i, k in enumerate(kinds) if k == "problem"]
    assert all(p.reason.startswith("negative Play Duration Milliseconds") for p in result.problems)
    skipped = Counter(k for k in kinds if k not in ("play", "problem"))
    assert {s.reason: s.count for s in result.skipped} == dict(skipped)
    # Measured on the sample: 3,000 rows.
    assert (len(plays), len(result.problems), sum(skipped.values())) == (2488, 6, 506)

    for index, row in plays_raw:
        play = plays[[i for i, _ in plays_raw].index(index)]
        expected = _play(path, index, row)
        assert (play.track, play.artist, play.ms_played, play.duration_ms, play.reason_end, play.offline) == (
            expected.track,
            expected.artist,
            expected.ms_played,
            expected.duration_ms,
            expected.reason_end,
            expected.offline,
        )
    by_index = dict(zip((i for i, _ in plays_raw), plays, strict=True))
    first_mac = next(i for i, r in plays_raw if "macOS/" in r["Build Version"])
    first_video = next(i for i, r in plays_raw if r["Media Type"] == "VIDEO")
    first_skip = next(i for i, r in plays_raw if r["End Reason Type"] == "TRACK_SKIPPED_FORWARDS")
    assert by_index[first_mac] == _play(
        path, first_mac, rows[first_mac], platform=Platform.DESKTOP, platform_raw="macOS"
    )
    assert by_index[first_video] == _play(path, first_video, rows[first_video], content_kind=ContentKind.VIDEO)
    assert by_index[first_skip] == _play(path, first_skip, rows[first_skip])
    assert {p.platform_raw for p in plays} == {None, "macOS", "iOS"}
    assert {p.country for p in plays} == {None}
    # Apple's per-play UTC offset is kept as recorded (Vietnam's +7 h, a stay at +9 h, a few empty).
    offsets = Counter(p.utc_offset_s for p in plays)
    expected_offsets = Counter(
        round(float(r["UTC Offset In Seconds"])) if r["UTC Offset In Seconds"] else None for _, r in plays_raw
    )
    assert offsets == expected_offsets and offsets.most_common(1)[0][0] == 25200


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1).map(str.strip).filter(bool)
_REASONS = st.sampled_from(["NATURAL_END_OF_TRACK", "TRACK_SKIPPED_FORWARDS", "PLAYBACK_MANUALLY_PAUSED", ""])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            _TEXT,
            st.none() | _TEXT,
            st.datetimes(datetime(2015, 1, 1), datetime(2025, 1, 1)),
            st.integers(0, 3_600_000),
            _REASONS,
            st.sampled_from(["True", "False", ""]),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_random_rows_round_trip(rows: list[tuple[str, str | None, datetime, int, str, str]]) -> None:
    header = (FIXTURES / "play_activity_every_row_kind.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "Apple Music Play Activity.csv"
        with path.open("w", encoding="utf-8", newline="") as fp:
            writer = csv.DictWriter(fp, fieldnames=header, restval="")
            writer.writeheader()
            for title, artist, start, ms, reason, offline in rows:
                end = start + timedelta(milliseconds=ms)
                writer.writerow(
                    {
                        "Content Name": title,
                        "Artist Name": artist or "",
                        "Event Start Timestamp": start.isoformat(timespec="milliseconds") + "Z",
                        "Event End Timestamp": end.isoformat(timespec="milliseconds") + "Z",
                        "Play Duration Milliseconds": f"{ms}.0",
                        "End Reason Type": reason,
                        "Offline": offline,
                    }
                )
        plays = read_with(apple_music, path, OPTIONS).plays
    assert plays == [
        Play(
            source=Source.APPLE_MUSIC,
            source_file=str(path),
            record_index=i,
            start_utc=start.replace(microsecond=start.microsecond // 1000 * 1000, tzinfo=UTC),
            ms_played=ms,
            track=title,
            artist=artist,
            reason_end=reason or None,
            skipped=(reason == "TRACK_SKIPPED_FORWARDS") if reason else None,
            offline={"True": True, "False": False}.get(offline),
        )
        for i, (title, artist, start, ms, reason, offline) in enumerate(rows)
    ]
