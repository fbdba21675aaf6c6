"""Spotify account data: StreamingHistory plays of both eras, podcast detection, library, playlists, Wrapped."""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DATA, samples_path
from tests.helpers.importers import ReadResult, read_with
from tutti.errors import ExportError
from tutti.importers import ReadOptions
from tutti.importers import spotify_account as account
from tutti.importers._archive import open_export
from tutti.model import (
    ContentKind,
    ImportProblem,
    LibraryItem,
    LibraryKind,
    Play,
    PlayBatch,
    PlaylistEntry,
    ServiceRecap,
    Skipped,
    Source,
    TimePrecision,
)

FIXTURES = DATA / "spotify_account"
OLD = FIXTURES / "old_era_podcasts_mixed_in" / "MyData"
NEW = FIXTURES / "new_era_split_files" / "Spotify Account Data"
BAD = FIXTURES / "bad"
HOUR_MS = 3_600_000
# The listener-describing files of an account export; none may ever be claimed.
PERSONAL = {
    "Userdata.json",
    "Identity.json",
    "Identifiers.json",
    "Payments.json",
    "UserAddress.json",
    "FamilyPlan.json",
    "Inferences.json",
    "Marquee.json",
    "SearchQueries.json",
    "Follow.json",
}


def _utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def _claimed(folder: Path) -> set[str]:
    return {e.basename for e in open_export(folder) if account.sniff(e.head(), e.name)}


# --- synthetic exports -------------------------------------------------------------------------------------


def test_old_era_plays_with_podcasts_mixed_in() -> None:
    result = read_with(account, OLD.parent)
    f0, f1 = str(OLD / "StreamingHistory0.json"), str(OLD / "StreamingHistory1.json")

    def play(file: str, index: int, end: str, ms: int, artist: str | None, track: str | None, kind: str) -> Play:
        return Play(
            source=Source.SPOTIFY_ACCOUNT,
            source_file=file,
            record_index=index,
            end_utc=_utc(end),
            ms_played=ms,
            time_precision=TimePrecision.MINUTE,
            track=track,
            artist=artist,
            content_kind=ContentKind(kind),
        )

    assert result.plays == [
        # The same minute twice: two real plays, both kept.
        play(f0, 0, "2019-12-13 10:27", 201000, "The Paper Lanterns", "Harbour Lights", "music"),
        play(f0, 1, "2019-12-13 10:27", 3000, "The Paper Lanterns", "Harbour Lights", "music"),
        # A play over an hour makes its "artist" a show, for all of its rows, short ones too.
        play(f0, 2, "2019-12-13 11:38", 4000000, "Night Owl Radio", "Episode 4 - Moths", "podcast"),
        play(f0, 3, "2019-12-14 08:00", 120000, "Night Owl Radio", "Episode 5 - Bats", "podcast"),
        # A show saved in YourLibrary.json.
        play(f0, 4, "2019-12-14 09:00", 600000, "Garden Talk", "Ep. 1 Tomatoes", "podcast"),
        # Local-file placeholders: the play is kept, the placeholder names are not; never a podcast.
        play(f0, 5, "2019-12-14 09:30", 180000, None, None, "music"),
        play(f0, 6, "2019-12-14 10:35", 3700000, None, "Demo Tape Side A", "music"),
        # A show named only by an episode in Playlist1.json.
        play(f0, 7, "2019-12-14 11:00", 300000, "Corner Stories", "Pilot", "podcast"),
        play(f0, 8, "2019-12-15 23:59", 0, "The Paper Lanterns", "Dust & Échos", "music"),
        # The next file starts in the minute the previous one ended: both plays are kept.
        play(f1, 0, "2019-12-15 23:59", 95000, "Mossy Stones", "Lichen", "music"),
        play(f1, 1, "2019-12-16 07:00", 1800000, "garden talk", "Ep. 2 Beans", "podcast"),
        play(f1, 2, "2019-12-16 07:05", 187000, "Mossy Stones", "Granite", "music"),
    ]
    assert result.plays[2].start_utc == _utc("2019-12-13 11:38") - timedelta(milliseconds=4000000)
    assert result.problems == [] and result.skipped == []


def test_old_era_library_playlists_and_claimed_files() -> None:
    result = read_with(account, OLD.parent)
    library = str(OLD / "YourLibrary.json")
    assert result.library == [
        LibraryItem(Source.SPOTIFY_ACCOUNT, library, LibraryKind.TRACK, "Harbour Lights", "The Paper Lanterns", "Quay"),
        LibraryItem(Source.SPOTIFY_ACCOUNT, library, LibraryKind.TRACK, "Lichen", "Mossy Stones", "Slow Rock"),
        LibraryItem(Source.SPOTIFY_ACCOUNT, library, LibraryKind.ALBUM, "Slow Rock", "Mossy Stones"),
        LibraryItem(Source.SPOTIFY_ACCOUNT, library, LibraryKind.SHOW, "Garden Talk", "Green Fingers Media"),
    ]
    [playlist] = result.playlists
    assert (playlist.name, playlist.last_modified, playlist.description, playlist.followers) == (
        "Rainy days",
        "2019-12-01",
        "Calm & quiet",
        2,
    )
    assert playlist.entries == (
        PlaylistEntry(0, "Harbour Lights", "The Paper Lanterns", "Quay", None, ContentKind.MUSIC, None),
        PlaylistEntry(1, "Pilot", "Corner Stories", None, None, ContentKind.PODCAST, None),
    )
    # The empty StreamingHistory2.json ("[ ]") is claimed by its name alone and yields nothing.
    assert _claimed(OLD.parent) == {
        "StreamingHistory0.json",
        "StreamingHistory1.json",
        "StreamingHistory2.json",
        "YourLibrary.json",
        "Playlist1.json",
    }


def test_new_era_split_files() -> None:
    result = read_with(account, NEW.parent)
    rows = [(p.content_kind.value, p.artist, p.track, p.album, p.ms_played) for p in result.plays]
    assert rows == [
        ("audiobook", "Mira Holloway", "Chapter 1", "The Clockmaker's Garden", 1500000),
        ("audiobook", "Mira Holloway", "Chapter 2", "The Clockmaker's Garden", 900000),
        ("music", "Velvet Tide", "Low Orbit", None, 215000),
        ("music", "Velvet Tide", "Low Orbit", None, 1200),
        # New-era music is music even when it plays for hours or shares a saved show's name.
        ("music", "Sleepy Noise Co.", "Nine Hours of Rain", None, 12000000),
        ("music", None, None, None, 60000),
        ("music", "Quiet Hours", "Theme (Extended)", None, 240000),
        ("podcast", "Quiet Hours", "Ep. 12 - Lighthouses", None, 2400000),
        ("podcast", "Quiet Hours", "Ep. 13 - Fog", None, 0),
    ]
    assert {p.time_precision for p in result.plays} == {TimePrecision.MINUTE}
    assert [p.record_index for p in result.plays] == [0, 1, 0, 1, 2, 3, 4, 0, 1]
    assert result.problems == []


def test_new_era_library_playlists_and_recap() -> None:
    result = read_with(account, NEW.parent)
    kinds = [(i.kind, i.name, i.uri) for i in result.library]
    assert kinds == [
        (LibraryKind.TRACK, "Low Orbit", "spotify:track:0000000000000000000001"),
        (LibraryKind.TRACK, "Nine Hours of Rain", "spotify:track:0000000000000000000002"),
        (LibraryKind.ALBUM, "Orbits", "spotify:album:0000000000000000000003"),
        (LibraryKind.SHOW, "Quiet Hours", "spotify:show:0000000000000000000004"),
        (LibraryKind.EPISODE, "Ep. 12 - Lighthouses", "spotify:episode:0000000000000000000005"),
        (LibraryKind.BANNED_TRACK, "Drill Solo", "spotify:track:0000000000000000000006"),
        (LibraryKind.ARTIST, "Velvet Tide", "spotify:artist:0000000000000000000007"),
        (LibraryKind.BANNED_ARTIST, "Loud Neighbours", "spotify:artist:0000000000000000000008"),
    ]
    assert result.skipped == [Skipped(str(NEW / "YourLibrary.json"), '"other" entries of the library are not read', 1)]
    night, empty = result.playlists
    assert night.description == 'Songs & stories "live"'
    assert night.entries == (
        PlaylistEntry(
            0,
            "Low Orbit",
            "Velvet Tide",
            "Orbits",
            "spotify:track:0000000000000000000001",
            ContentKind.MUSIC,
            "2024-01-02",
        ),
        PlaylistEntry(
            1,
            "Ep. 13 - Fog",
            "Quiet Hours",
            None,
            "spotify:episode:0000000000000000000009",
            ContentKind.PODCAST,
            "2024-01-07",
        ),
        PlaylistEntry(
            2,
            "Low Orbit (demo)",
            "Velvet Tide",
            "Demos",
            "spotify:local:Velvet+Tide:Demos:Low+Orbit+%28demo%29:215",
            ContentKind.MUSIC,
            "2024-01-08",
        ),
        PlaylistEntry(3, None, None, None, None, ContentKind.UNKNOWN, "2024-01-08"),
    )
    assert (empty.name, empty.entries) == ("Empty for now", ())
    wrapped = NEW / "Wrapped2099.json"
    assert result.recaps == [ServiceRecap(Source.SPOTIFY_ACCOUNT, str(wrapped), 2099, wrapped.read_text("utf-8"))]


def test_personal_files_are_never_claimed_nor_break_the_import() -> None:
    for folder in (OLD, NEW):
        for path in folder.iterdir():
            if path.name in PERSONAL:
                head = path.read_bytes()[:4096]
                assert not account.sniff(head, path.name), path
                assert not account.sniff(head, "renamed.json"), path
    assert _claimed(NEW.parent) == {
        "StreamingHistory_music_0.json",
        "StreamingHistory_podcast_0.json",
        "StreamingHistory_audiobook_0.json",
        "YourLibrary.json",
        "Playlist1.json",
        "Wrapped2099.json",
    }
    # Handed every file of the folder, personal ones included, read() leaves those unopened.
    items = list(account.read(open_export(NEW.parent), ReadOptions()))
    assert not any(isinstance(i, ImportProblem) for i in items)
    assert sum(len(i) for i in items if isinstance(i, PlayBatch)) == 9


def test_a_music_file_alone_keeps_its_long_plays_as_music() -> None:
    result = read_with(account, NEW / "StreamingHistory_music_0.json")
    assert {p.content_kind for p in result.plays} == {ContentKind.MUSIC}


# _archive leaves the zip file open for its entries to stream from; it closes when they are collected.
def test_zipped_export_reads_like_the_folder(tmp_path: Path) -> None:
    archive = tmp_path / "my_spotify_data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(OLD.iterdir()):
            zf.write(path, f"MyData/{path.name}")
    zipped, folder = read_with(account, archive), read_with(account, OLD.parent)
    assert [p.source_file for p in zipped.plays][:1] == [f"{archive}!MyData/StreamingHistory0.json"]
    strip = [(p.record_index, p.end_utc, p.ms_played, p.artist, p.track, p.content_kind) for p in zipped.plays]
    assert strip == [(p.record_index, p.end_utc, p.ms_played, p.artist, p.track, p.content_kind) for p in folder.plays]


# --- bad input ---------------------------------------------------------------------------------------------


def test_truncated_file_names_the_file() -> None:
    path = BAD / "truncated_streaming_history.json"
    with pytest.raises(ExportError, match="truncated") as caught:
        read_with(account, path)
    assert caught.value.file == str(path)


def test_non_utf8_file_names_the_file_and_byte() -> None:
    path = BAD / "not_utf8_streaming_history.json"
    with pytest.raises(ExportError, match=r"not UTF-8 text \(byte \d+, line 10\)") as caught:
        read_with(account, path)
    assert caught.value.file == str(path)


def test_impossible_records_become_problems_and_the_rest_is_read() -> None:
    path = BAD / "impossible_values_streaming_history.json"
    result = read_with(account, path)
    assert [(p.record_index, p.track) for p in result.plays] == [(0, "Lichen"), (11, "Obsidian")]
    assert {p.file for p in result.problems} == {str(path)}
    assert [(p.record, p.reason) for p in result.problems] == [
        ("record 1", "negative ms_played (-5)"),
        ("record 2", "time 1900-01-01T00:00:00+00:00 is before 2000"),
        ("record 3", "has no endTime"),
        ("record 4", "endTime '2020-05-01T10:10:00Z' is not of the form YYYY-MM-DD HH:MM"),
        ("record 5", "endTime '2020-02-30 10:12' is not a real date"),
        ("record 6", "has no msPlayed"),
        ("record 7", "msPlayed '1000' is not a whole number"),
        ("record 8", "names no track, episode or audiobook chapter"),
        ("record 9", "artistName should be text, not int"),
        ("record 10", "ms_played of 90000000 is more than 24 hours"),
        ("record 12", "should be an object, not str"),
    ]


def test_future_end_time_is_a_problem() -> None:
    result = read_with(account, OLD / "StreamingHistory0.json", ReadOptions(now=datetime(2019, 12, 10, tzinfo=UTC)))
    assert result.plays == [] and len(result.problems) == 9
    assert result.problems[0].record == "record 0" and "in the future" in result.problems[0].reason


def test_wrong_structure_is_an_export_error() -> None:
    path = BAD / "wrong_structure_library.json"
    with pytest.raises(ExportError, match='"albums" should be a list, not dict') as caught:
        read_with(account, path)
    assert caught.value.file == str(path)
    other = BAD / "not_account_data.json"
    assert not account.sniff(other.read_bytes(), other.name)
    with pytest.raises(ExportError, match="is not a file of Spotify account data"):
        list(account.read(open_export(other), ReadOptions()))


def test_unreadable_library_and_playlist_items_are_named() -> None:
    library = read_with(account, BAD / "library_with_unreadable_items.json")
    assert [i.name for i in library.library] == ["Lichen"]
    assert [(p.record, p.reason) for p in library.problems] == [
        ("tracks[1]", "should be an object, not int"),
        ("tracks[2]", "has no name"),
        ("shows[0]", "name should be text, not int"),
    ]
    playlists = read_with(account, BAD / "playlists_with_unreadable_items.json")
    assert [(p.name, len(p.entries)) for p in playlists.playlists] == [("Fine", 1)]
    assert [(p.record, p.reason) for p in playlists.problems] == [
        ("playlist 0 item 1", "should be an object, not str"),
        ("playlist 0 item 2", "track should be an object, not str"),
        ("playlist 1", "is not a playlist with a name"),
        ("playlist 2", "items is not a list"),
    ]


def test_recap_year_from_content_or_a_problem() -> None:
    [recap] = read_with(account, FIXTURES / "recaps" / "recap_year_from_content.json").recaps
    assert recap.year == 2024
    nameless = FIXTURES / "recaps" / "recap_without_year.json"
    result = read_with(account, nameless)
    assert result.recaps == []
    assert result.problems == [
        ImportProblem(str(nameless), "whole file", "cannot tell which year this Wrapped recap covers")
    ]


@pytest.mark.parametrize(
    ("head", "name", "claimed"),
    [
        (b'[\n  {\n    "endTime" : "2020-01-01 00:00",\n    "msPlayed" : 1\n  },\n  {\n    "endT', "x.json", True),
        (b'[ {\n  "endTime" : "2020-01-01 00:00",\n  "artistName" : "A}{", "msPlayed" : 1 }', "x.json", True),
        (b'[{"ts": "2020-01-01T00:00:00Z", "ms_played": 1}]', "StreamingHistory0.json", False),
        (b'[{"artistName": "A", "segment": "Light listeners"}]', "x.json", False),
        (b'[{"platform": "IPHONE", "searchTime": "2021"}]', "x.json", False),
        (b"[ ]", "StreamingHistory_podcast_0.json", True),
        (b"[ ]", "Marquee.json", False),
        (b'{"recenttracks": {"track": []}}', "x.json", False),
        (b'{\n  "tracks" : [ ],\n  "albums" : [ ]', "x.json", True),
        (b'{"playlists": [{"name": "x"', "x.json", True),
        (b'{"topArtists": {"numUniqueArtists": 1', "x.json", True),
        (b'{"username": "u"}\n// note', "x.json", False),
        (b"List(Map(street -> x))", "x.json", False),
        (b"", "x.json", False),
    ],
)
def test_sniff(head: bytes, name: str, claimed: bool) -> None:
    assert account.sniff(head, name) is claimed


# --- Hypothesis: records written as Spotify writes them read back unchanged --------------------------------

_minutes = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
)
_records = st.lists(
    st.tuples(_minutes, st.text(max_size=20), st.text(max_size=30), st.integers(0, 24 * HOUR_MS)), max_size=25
)


def _spotify_style(records: list[dict[str, Any]]) -> str:
    body = ",\n".join(
        "  {\n"
        + ",\n".join(f"    {json.dumps(k)} : {json.dumps(v, ensure_ascii=False)}" for k, v in r.items())
        + "\n  }"
        for r in records
    )
    return f"[\n{body}\n]" if records else "[ ]"


@settings(max_examples=60, deadline=None)
@given(_records)
def test_generated_old_era_records_read_back(rows: list[tuple[datetime, str, str, int]]) -> None:
    records = [
        {"endTime": end.strftime("%Y-%m-%d %H:%M"), "artistName": artist, "trackName": track, "msPlayed": ms}
        for end, artist, track, ms in rows
    ]
    long_played = {
        artist.casefold() for _, artist, _, ms in rows if ms > HOUR_MS and artist not in ("", "Unknown Artist")
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "MyData" / "StreamingHistory0.json"
        path.parent.mkdir()
        path.write_text(_spotify_style(records), encoding="utf-8")
        plays = read_with(account, path.parent, ReadOptions(now=datetime(2031, 1, 1, tzinfo=UTC))).plays
    assert len(plays) == len(rows)
    for index, (play, (end, artist, track, ms)) in enumerate(zip(plays, rows, strict=True)):
        assert play.record_index == index
        assert (play.end_utc, play.start_utc, play.ms_played) == (end, end - timedelta(milliseconds=ms), ms)
        assert play.artist == (None if artist in ("", "Unknown Artist") else artist)
        assert play.track == (None if track in ("", "Unknown Track") else track)
        podcast = play.artist is not None and artist.casefold() in long_played
        assert play.content_kind is (ContentKind.PODCAST if podcast else ContentKind.MUSIC)


# --- the real sample exports -------------------------------------------------------------------------------

SAMPLE_EXPORTS = {
    "romainleclair": "MyData",
    "fedecalendino-2020-11": "MyData",
    "fedecalendino-2021-01": "MyData",
    "hobbies-w-erin": "Spotify Account Data",
    "alanindra": "Spotify Account Data",
}


def _sample(owner: str) -> Path:
    return samples_path("spotify-account", owner, SAMPLE_EXPORTS[owner])


def _read_sample(owner: str) -> ReadResult:
    return _read_export(_sample(owner).parent)


def _sample_plays(owner: str) -> list[Play]:
    return _plays_of(_sample(owner).parent)


@cache
def _read_export(folder: Path) -> ReadResult:
    return read_with(account, folder)


@cache
def _plays_of(folder: Path) -> list[Play]:
    return _read_export(folder).plays


def _raw_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as fp:
        return json.load(fp)


def _expected_rows(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Per file, what each raw record should become: (end, ms, kind, artist, track, album), read plainly."""
    files = sorted(folder.glob("StreamingHistory*.json"))
    raw = {path: _raw_json(path) for path in files}
    split = any("podcastName" in r or "audiobookName" in r for records in raw.values() for r in records)
    # Old era: a show is what the library or a playlist calls one, or a name with a play longer than an hour.
    shows: set[str] = set()
    if not split and (folder / "YourLibrary.json").exists():
        library = _raw_json(folder / "YourLibrary.json")
        shows |= {s["name"] for s in library.get("shows", [])} | {e["show"] for e in library.get("episodes", [])}
    for playlist_file in folder.glob("Playlist*.json") if not split else []:
        for playlist in _raw_json(playlist_file)["playlists"]:
            shows |= {i["episode"]["showName"] for i in playlist["items"] if i.get("episode")}
    if not split:
        shows |= {r["artistName"] for rs in raw.values() for r in rs if r["msPlayed"] > HOUR_MS}
    shows.discard("Unknown Artist")
    expected: dict[str, list[tuple[Any, ...]]] = {}
    for path, records in raw.items():
        rows = []
        for r in records:
            end, ms = _utc(r["endTime"]), r["msPlayed"]
            if "podcastName" in r:
                rows.append((end, ms, "podcast", r["podcastName"], r["episodeName"], None))
            elif "audiobookName" in r:
                rows.append((end, ms, "audiobook", r["authorName"], r["chapterName"], r["audiobookName"]))
            else:
                artist = None if r["artistName"] == "Unknown Artist" else r["artistName"]
                track = None if r["trackName"] == "Unknown Track" else r["trackName"]
                rows.append((end, ms, "podcast" if artist in shows else "music", artist, track, None))
        expected[str(path)] = rows
    return expected


@pytest.mark.samples
@pytest.mark.parametrize("owner", sorted(SAMPLE_EXPORTS))
def test_sample_plays_equal_the_raw_records(owner: str) -> None:
    expected = _expected_rows(_sample(owner))
    result = _read_sample(owner)
    assert result.problems == [] and result.skipped == []
    got: dict[str, list[tuple[Any, ...]]] = {}
    for p in _sample_plays(owner):
        assert p.record_index == len(got.setdefault(p.source_file, []))
        assert p.time_precision is TimePrecision.MINUTE and p.source is Source.SPOTIFY_ACCOUNT
        got[p.source_file].append((p.end_utc, p.ms_played, p.content_kind.value, p.artist, p.track, p.album))
    assert got == expected  # every record, field by field, in file order
    all_rows = [row for rows in expected.values() for row in rows]
    plays = _sample_plays(owner)
    assert len(plays) == len(all_rows)
    assert sum(p.ms_played or 0 for p in plays) == sum(row[1] for row in all_rows)
    assert Counter(p.content_kind.value for p in plays) == Counter(row[2] for row in all_rows)
    assert min(p.end_utc for p in plays if p.end_utc) == min(row[0] for row in all_rows)
    assert max(p.end_utc for p in plays if p.end_utc) == max(row[0] for row in all_rows)


# Measured on the samples: (plays, sum of msPlayed, plays per kind).
MEASURED = {
    "romainleclair": (24_893, 3_906_770_954, {"music": 23_836, "podcast": 1_057}),
    "fedecalendino-2020-11": (88_718, 10_332_359_237, {"music": 88_718}),
    "fedecalendino-2021-01": (84_630, 10_334_071_151, {"music": 84_630}),
    "hobbies-w-erin": (16_458, 2_416_529_160, {"music": 15_850, "podcast": 597, "audiobook": 11}),
    "alanindra": (32_703, 5_551_222_506, {"music": 32_629, "podcast": 74}),
}


@pytest.mark.samples
@pytest.mark.parametrize("owner", sorted(MEASURED))
def test_sample_measured_totals(owner: str) -> None:
    plays = _sample_plays(owner)
    count, ms, kinds = MEASURED[owner]
    assert (len(plays), sum(p.ms_played or 0 for p in plays)) == (count, ms)
    assert Counter(p.content_kind.value for p in plays) == kinds


@pytest.mark.samples
def test_romainleclair_podcasts_hidden_in_music_rows() -> None:
    plays = _sample_plays("romainleclair")
    by_show = Counter(p.artist for p in plays if p.content_kind is ContentKind.PODCAST)
    # Evidence per show: saved in YourLibrary.json (Data Skeptic, SuperDataScience, Towards Data Science,
    # LeaderCast, Le rendez-vous Tech), an episode in Playlist1.json (Sport Santé Nutrition Podcast), or plays
    # over an hour (Popcorn 7,587,049 ms, SuperPhysique Podcast, LeaderCast, Le rendez-vous Tech).
    assert by_show == {
        "SuperPhysique Podcast": 365,
        "LeaderCast": 193,
        "Popcorn": 159,
        "Le rendez-vous Tech": 142,
        "Towards Data Science": 86,
        "SuperDataScience": 80,
        "Data Skeptic": 31,
        "Sport Santé Nutrition Podcast": 1,
    }
    assert all(p.content_kind is ContentKind.PODCAST for p in plays if p.artist == "Popcorn")
    [longest] = [p for p in plays if p.ms_played == 7_587_049]
    raw = _raw_json(_sample("romainleclair") / Path(longest.source_file).name)[longest.record_index]
    assert raw["artistName"] == "Popcorn" and raw["trackName"].startswith("S01E17 - ")
    assert (longest.artist, longest.track, longest.end_utc, longest.album) == (
        "Popcorn",
        raw["trackName"],
        _utc(raw["endTime"]),
        None,
    )


@pytest.mark.samples
def test_hobbies_w_erin_placeholders_and_long_music() -> None:
    folder = _sample("hobbies-w-erin")
    plays = _sample_plays("hobbies-w-erin")
    music = [r for f in sorted(folder.glob("StreamingHistory_music_*.json")) for r in _raw_json(f)]
    assert sum(p.artist is None for p in plays) == sum(r["artistName"] == "Unknown Artist" for r in music) == 43
    # A 3.5-hour sound bath in the music file stays music: new exports file podcasts apart.
    [bath] = [p for p in plays if p.ms_played == 12_665_880]
    assert (bath.artist, bath.content_kind) == ("Sleeping Vibrations", ContentKind.MUSIC)
    [book] = [p for p in plays if p.content_kind is ContentKind.AUDIOBOOK][:1]
    assert (book.track, book.album, book.artist, book.ms_played, book.end_utc) == (
        "How to Keep House While Drowning",
        "How to Keep House While Drowning",
        "KC Davis LPC",
        41192,
        _utc("2023-10-20 18:58"),
    )


@pytest.mark.samples
def test_fedecalendino_exports_read_separately() -> None:
    for owner, count in (("fedecalendino-2020-11", 88_718), ("fedecalendino-2021-01", 84_630)):
        raw = [r for f in sorted(_sample(owner).glob("StreamingHistory*.json")) for r in _raw_json(f)]
        plays = _sample_plays(owner)
        assert len(plays) == len(raw) == count
    plays = _sample_plays("fedecalendino-2021-01")
    # Same (endTime, artist, track) repeated within the export: real repeated plays, all kept.
    keys = Counter((p.end_utc, p.artist, p.track) for p in plays)
    assert sum(n - 1 for n in keys.values() if n > 1) == 2_359
    boundary = [p for p in plays if p.end_utc == _utc("2020-03-24 00:59")]
    assert {Path(p.source_file).name for p in boundary} == {"StreamingHistory1.json", "StreamingHistory2.json"}


@pytest.mark.samples
@pytest.mark.parametrize("owner", sorted(SAMPLE_EXPORTS))
def test_sample_library_and_playlists(owner: str) -> None:
    folder = _sample(owner)
    result = _read_sample(owner)
    expected_library: Counter[str] = Counter()
    if (folder / "YourLibrary.json").exists():
        library = _raw_json(folder / "YourLibrary.json")
        for key, kind in (("tracks", "track"), ("albums", "album"), ("shows", "show"), ("episodes", "episode")):
            expected_library[kind] += len(library.get(key, []))
        expected_library["artist"] += len(library.get("artists", []))
    assert Counter(i.kind.value for i in result.library) == +expected_library
    assert all(i.uri is None for i in result.library) or all(i.uri for i in result.library)
    raw_playlists = [p for f in sorted(folder.glob("Playlist*.json")) for p in _raw_json(f)["playlists"]]
    assert [(p.name, len(p.entries)) for p in result.playlists] == [(p["name"], len(p["items"])) for p in raw_playlists]
    for got, raw in zip(result.playlists, raw_playlists, strict=True):
        assert (got.last_modified, got.followers) == (raw["lastModifiedDate"], raw["numberOfFollowers"])
        assert got.description is None or "&amp;" not in got.description


@pytest.mark.samples
def test_sample_library_and_playlist_counts() -> None:
    romain = _read_sample("romainleclair")
    assert Counter(i.kind.value for i in romain.library) == {"track": 318, "album": 10, "show": 5}
    assert (len(romain.playlists), sum(len(p.entries) for p in romain.playlists)) == (10, 465)
    erin = _read_sample("hobbies-w-erin")
    assert Counter(i.kind.value for i in erin.library) == {
        "track": 931,
        "show": 85,
        "episode": 61,
        "artist": 33,
        "album": 26,
    }
    assert (len(erin.playlists), sum(len(p.entries) for p in erin.playlists)) == (40, 1008)
    assert Counter(e.content_kind.value for p in erin.playlists for e in p.entries) == {"music": 1005, "podcast": 3}
    fede = _read_sample("fedecalendino-2020-11")
    assert (len(fede.playlists), sum(len(p.entries) for p in fede.playlists)) == (8, 261)
    assert any(p.description and " & Unknown Mortal Orchestra" in p.description for p in fede.playlists)


@pytest.mark.samples
def test_wrapped2023_kept_verbatim() -> None:
    path = _sample("hobbies-w-erin") / "Wrapped2023.json"
    assert _read_sample("hobbies-w-erin").recaps == [
        ServiceRecap(Source.SPOTIFY_ACCOUNT, str(path), 2023, path.read_text(encoding="utf-8"))
    ]


@pytest.mark.samples
@pytest.mark.parametrize("owner", sorted(SAMPLE_EXPORTS))
def test_sample_claims_only_history_library_playlists_and_wrapped(owner: str) -> None:
    folder = _sample(owner)
    for path in folder.iterdir():
        claimed = account.sniff(path.read_bytes()[:4096], path.name)
        ours = path.name.startswith(("StreamingHistory", "Playlist", "Wrapped")) or path.name == "YourLibrary.json"
        assert claimed is ours, path
        assert not (claimed and path.name in PERSONAL)


@pytest.mark.samples
def test_other_formats_samples_are_not_claimed() -> None:
    for path in sorted(samples_path().rglob("*")):
        if path.is_file() and "spotify-account" not in path.parts and path.suffix != ".md":
            with path.open("rb") as fp:
                assert not account.sniff(fp.read(4096), path.name), path
