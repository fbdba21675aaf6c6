from __future__ import annotations

import json
import shutil
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA, samples_path
from tutti.errors import ExportError, UsageError
from tutti.insights.summary import summary
from tutti.model import (
    PLAY_COLUMNS,
    ContentKind,
    Platform,
    Play,
    PlayBatch,
    Source,
    TimePrecision,
    table_to_plays,
)
from tutti.store import Store, open_store
from tutti.store.ingest import import_paths, insert_items

FIXTURES = DATA / "spotify_extended"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "home") as opened:
        yield opened


def _table_counts(store: Store) -> dict[str, int]:
    tables = ("plays", "merges", "imports", "library_items", "playlists", "playlist_entries", "service_recaps")
    return {t: store.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}


def _independent_extended(paths: list[Path]) -> tuple[int, int, int]:
    """Events, ms and default-rule plays computed straight from raw extended-history files."""
    distinct: dict[str, dict[str, Any]] = {}
    for path in paths:
        for r in json.loads(path.read_text(encoding="utf-8")):
            if not r.get("incognito_mode"):
                distinct.setdefault(json.dumps(r, sort_keys=True), r)
    records = list(distinct.values())
    plays = sum(
        1
        for r in records
        if r["ms_played"] >= 30_000 and not (r["skipped"] or r["reason_end"] in ("fwdbtn", "backbtn"))
    )
    return len(records), sum(int(r["ms_played"]) for r in records), plays


def test_reimport_adds_nothing(store: Store) -> None:
    first = import_paths(store, "me", [FIXTURES])[0]
    again = import_paths(store, "me", [FIXTURES])[0]
    # 13 records: 2 incognito plays left out, two exact duplicate pairs (cast rows, Video file) folded
    assert (first.plays_read, first.exact_duplicates, first.added) == (11, 2, 9)
    assert again.added == 0
    assert again.already_stored == 9
    assert summary(store, "me").events == 9


@pytest.mark.samples
def test_extended_samples_match_an_independent_count(store: Store) -> None:
    folder = samples_path("spotify-extended")
    files = sorted(folder.rglob("*.json"))
    events, ms, plays = _independent_extended(files)
    import_paths(store, "me", [folder])
    result = summary(store, "me")
    assert (result.events, result.ms_played, result.plays) == (events, ms, plays)
    assert import_paths(store, "me", [folder])[0].added == 0


def test_failed_import_leaves_the_store_exactly_as_it_was(store: Store) -> None:
    import_paths(store, "me", [FIXTURES / "endsong_0_v1_unordered_null_content_cast_duplicate.json"])
    before = _table_counts(store)
    with pytest.raises(ExportError) as info:
        import_paths(
            store,
            "me",
            [
                FIXTURES / "Streaming_History_Audio_2024_1_v2_offline_seconds.json",
                DATA / "bad" / "my_spotify_data_corrupt.zip",
            ],
        )
    assert "my_spotify_data_corrupt.zip" in str(info.value)
    assert _table_counts(store) == before


def test_truncated_file_inside_a_folder_fails_whole_and_names_the_file(store: Store, tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    good = FIXTURES / "Streaming_History_Audio_2024_1_v2_offline_seconds.json"
    (export / good.name).write_bytes(good.read_bytes())
    (export / "Streaming_History_Audio_2024_2.json").write_bytes(good.read_bytes()[:-30])
    with pytest.raises(ExportError, match=r"Streaming_History_Audio_2024_2\.json.*truncated"):
        import_paths(store, "me", [export])
    assert _table_counts(store)["plays"] == 0


def test_profiles_are_separate(store: Store) -> None:
    import_paths(store, "alice", [FIXTURES])
    import_paths(store, "bob", [FIXTURES / "Streaming_History_Audio_2024_1_v2_offline_seconds.json"])
    counts = {p.name: p.events for p in store.profiles()}
    assert counts == {"alice": 9, "bob": 2}
    with pytest.raises(UsageError):
        summary(store, "carol")
    with pytest.raises(UsageError):
        import_paths(store, "no spaces please", [FIXTURES])


_names = st.one_of(st.none(), st.text(min_size=1, max_size=20))
_times = st.datetimes(min_value=datetime(2005, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))


@st.composite
def _plays(draw: st.DrawFn) -> Play:
    precision = draw(st.sampled_from(TimePrecision))
    when = draw(_times).replace(microsecond=0)
    if precision is TimePrecision.MINUTE:
        when = when.replace(second=0)
    ms = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=5_000_000)))
    return Play(
        source=draw(st.sampled_from(Source)),
        source_file="generated.json",
        record_index=draw(st.integers(min_value=0, max_value=10**6)),
        end_utc=when if ms is not None else None,
        start_utc=None if ms is not None else when,
        ms_played=ms,
        time_precision=precision,
        track=draw(_names),
        artist=draw(_names),
        album=draw(_names),
        content_kind=draw(st.sampled_from(ContentKind)),
        duration_ms=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=10**7))),
        spotify_uri=draw(st.one_of(st.none(), st.just("spotify:track:abc"))),
        platform=draw(st.sampled_from(Platform)),
        platform_raw=draw(_names),
        country=draw(st.one_of(st.none(), st.sampled_from(["DE", "ZZ"]))),
        reason_end=draw(st.one_of(st.none(), st.sampled_from(["fwdbtn", "trackdone", ""]))),
        shuffle=draw(st.one_of(st.none(), st.booleans())),
        skipped=draw(st.one_of(st.none(), st.booleans())),
        offline=draw(st.one_of(st.none(), st.booleans())),
        offline_utc=draw(st.one_of(st.none(), _times)),
        incognito=draw(st.one_of(st.none(), st.booleans())),
    )


@st.composite
def _plays_with_twins(draw: st.DrawFn) -> list[Play]:
    """Distinct generated plays, plus copies of some of them under later record numbers: exact twins as exports
    repeat them, some with another derived label (platform, content kind, derived skip) that identity ignores."""
    plays = draw(st.lists(_plays(), min_size=1, max_size=12, unique_by=lambda p: p.record_index))
    copied = draw(st.lists(st.sampled_from(plays), max_size=4))
    twins = [
        replace(
            play,
            record_index=10**6 + 1 + i,
            platform=draw(st.sampled_from([play.platform, Platform.OTHER])),
            content_kind=draw(st.sampled_from([play.content_kind, ContentKind.UNKNOWN])),
            skipped=draw(st.sampled_from([play.skipped, not play.skipped])),
        )
        for i, play in enumerate(copied)
    ]
    return plays + twins


# Where a record sits in its file, and labels derived from its raw fields, do not make it another play.
_NOT_IDENTITY = {"source_file", "record_index", "platform", "content_kind", "skipped"}


def _expected_after_store(plays: list[Play]) -> list[Play]:
    """What the store must hold, worked out from the input alone: every minute-precision record (exports that
    record only the minute really repeat plays), and of second-precision records equal in every other field
    the first in file order."""
    kept: list[Play] = []
    seen: set[tuple[object, ...]] = set()
    for play in sorted(plays, key=lambda p: (p.source_file, p.record_index)):
        identity = tuple(getattr(play, f.name) for f in fields(Play) if f.name not in _NOT_IDENTITY)
        if play.time_precision is TimePrecision.SECOND and identity in seen:
            continue
        seen.add(identity)
        kept.append(play)
    return kept


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_plays_with_twins())
def test_a_play_survives_store_and_read_unchanged(plays: list[Play]) -> None:
    with open_store(memory=True) as store, store.transaction():
        store.ensure_profile("me")
        report = insert_items(store, "me", "generated", [PlayBatch.from_plays("generated.json", plays)])
        stored = store.con.sql(f"SELECT {', '.join(PLAY_COLUMNS)} FROM plays ORDER BY record_index").to_arrow_table()
    expected = _expected_after_store(plays)
    assert table_to_plays(stored) == expected
    assert (report.added, report.exact_duplicates) == (len(expected), len(plays) - len(expected))


def test_minute_precision_repeats_are_kept_and_overlap_merges_to_the_union() -> None:
    minute = datetime(2020, 3, 24, 0, 59, tzinfo=UTC)

    def play(i: int, ms: int) -> Play:
        return Play(
            Source.SPOTIFY_ACCOUNT,
            "f.json",
            i,
            end_utc=minute,
            ms_played=ms,
            track="T",
            artist="A",
            time_precision=TimePrecision.MINUTE,
        )

    first = [play(0, 1000), play(1, 1000), play(2, 5000)]  # a real repeat inside one minute
    second = [play(0, 1000), play(1, 1000), play(2, 1000), play(3, 7000)]  # the next export saw one more repeat
    with open_store(memory=True) as store, store.transaction():
        store.ensure_profile("me")
        a = insert_items(store, "me", "export 1", [PlayBatch.from_plays("f.json", first)])
        b = insert_items(store, "me", "export 2", [PlayBatch.from_plays("f.json", second)])
        assert (a.added, b.added, b.already_stored) == (3, 2, 2)
        assert summary(store, "me").events == 5  # multiset union: 3 x 1000 ms, 5000, 7000


def test_start_is_derived_from_end_and_back() -> None:
    end = datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert Play(Source.SPOTIFY_EXTENDED, "f", 0, end_utc=end, ms_played=60_000).start_utc == end - timedelta(minutes=1)
    assert Play(Source.LASTFM, "f", 0, start_utc=end).end_utc is None


def _zip(folder: Path, out: Path, *, twice: bool = False) -> Path:
    """Zip ``folder`` as a service does; ``twice`` writes every member a second time under the same name."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns of the repeated names
        for _ in range(2 if twice else 1):
            for file in sorted(p for p in folder.rglob("*") if p.is_file()):
                archive.write(file, file.relative_to(folder.parent).as_posix())
    return out


@pytest.mark.parametrize(
    "fixture", ["spotify_extended", "listenbrainz/export_zip", "spotify_account/old_era_podcasts_mixed_in"]
)
def test_a_zip_holding_every_file_twice_imports_each_play_once(store: Store, tmp_path: Path, fixture: str) -> None:
    with open_store(tmp_path / "once") as once:
        expected = import_paths(once, "me", [DATA / fixture])[0]
    archive = _zip(DATA / fixture, tmp_path / "export.zip", twice=True)
    report = import_paths(store, "me", [archive])[0]
    assert expected.added > 0
    assert (report.plays_read, report.added) == (expected.plays_read, expected.added)
    read_once = sum(expected.formats.values()) + sum("personal" not in u.reason for u in expected.unread)
    assert sum("the same bytes as" in u.reason for u in report.unread) == read_once


def test_an_export_beside_its_own_zip_counts_once(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "downloads"
    shutil.copytree(DATA / "spotify_account" / "old_era_podcasts_mixed_in", folder)
    _zip(folder / "MyData", folder / "my_spotify_data.zip")
    scrobbles = DATA / "lastfm" / "no_header_adjacent_repeats_empty_album.csv"
    shutil.copy(scrobbles, folder / scrobbles.name)
    with zipfile.ZipFile(folder / "scrobbles.zip", "w") as archive:
        archive.write(scrobbles, scrobbles.name)
    with open_store(tmp_path / "alone") as alone:
        import_paths(alone, "me", [DATA / "spotify_account" / "old_era_podcasts_mixed_in", scrobbles])
        expected = summary(alone, "me").events
    import_paths(store, "me", [folder])
    assert summary(store, "me").events == expected


def test_two_overlapping_exports_in_one_folder_give_their_union(store: Store, tmp_path: Path) -> None:
    both = DATA / "spotify_account" / "two_overlapping_exports_in_one_folder"
    with open_store(tmp_path / "apart") as apart:
        import_paths(apart, "me", sorted(both.iterdir()))
        union = summary(apart, "me").events
    assert union == 7  # 5 plays, then 2 new ones; the 4 plays both exports hold count once
    import_paths(store, "me", [both])
    assert summary(store, "me").events == union


@pytest.mark.samples
def test_two_real_overlapping_exports_in_one_folder_give_their_union(store: Store, tmp_path: Path) -> None:
    exports = [samples_path("spotify-account", f"fedecalendino-{month}") for month in ("2020-11", "2021-01")]
    parent = tmp_path / "both"
    rows: list[Counter[tuple[object, ...]]] = []
    for export in exports:
        shutil.copytree(export, parent / export.name)
        rows.append(
            Counter(
                tuple(r.values())
                for file in sorted(export.rglob("StreamingHistory*.json"))
                for r in json.loads(file.read_text(encoding="utf-8"))
            )
        )
    union = rows[0] | rows[1]  # a record repeated n times in one export and m in the other is there max(n, m) times
    import_paths(store, "me", [parent])
    assert summary(store, "me").events == sum(union.values()) == 96_106
