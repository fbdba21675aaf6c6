from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import permutations
from pathlib import Path

import pytest

from tests.conftest import DATA, samples_path
from tutti.demo import write_demo_export
from tutti.insights.summary import summary
from tutti.model import Play, PlayBatch, Source
from tutti.store import Store, open_store
from tutti.store.dedupe import list_merges, undo_merge
from tutti.store.ingest import import_paths, insert_items


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "home") as opened:
        yield opened


def _account_rows(folder: Path) -> Counter[tuple[str, str | None, str | None, int]]:
    rows: Counter[tuple[str, str | None, str | None, int]] = Counter()
    for file in sorted(folder.rglob("StreamingHistory*.json")):
        for r in json.loads(file.read_text(encoding="utf-8")):
            artist = r.get("artistName") or r.get("podcastName") or r.get("authorName")
            track = r.get("trackName") or r.get("episodeName") or r.get("chapterName")
            rows[(r["endTime"], artist, track, r["msPlayed"])] += 1
    return rows


@pytest.mark.samples
def test_two_overlapping_account_exports_merge_to_their_union(store: Store) -> None:
    older = samples_path("spotify-account", "fedecalendino-2020-11")
    newer = samples_path("spotify-account", "fedecalendino-2021-01")
    a, b = _account_rows(older), _account_rows(newer)
    union = a | b  # multiset union: a row repeated n times in one export and m in the other is kept max(n, m) times
    assert sum(a.values()) == 88_718 and sum(b.values()) == 84_630

    first, second = import_paths(store, "fede", [older, newer])
    assert first.added == sum(a.values())
    assert second.added == sum(union.values()) - sum(a.values())
    result = summary(store, "fede")
    assert result.events == sum(union.values()) == 96_106
    assert result.ms_played == sum(key[3] * n for key, n in union.items())
    # Either order gives the same union, and importing both again adds nothing.
    assert [r.added for r in import_paths(store, "fede", [newer, older])] == [0, 0]
    import_paths(store, "fede-reversed", [newer, older])
    assert summary(store, "fede-reversed").events == result.events


def _key(text: str) -> str:
    """Independent version of the merge name key: no case, accents, brackets or ' - ...' suffix."""
    text = re.sub(r"\s*[\(\[][^\)\]]*[\)\]]|\s+-\s+.*$", "", text)
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).strip().lower()


@pytest.mark.samples
def test_extended_history_and_account_data_copies_are_merged_certain(store: Store) -> None:
    video = samples_path("spotify-extended", "alanindra")
    account = samples_path("spotify-account", "alanindra")
    distinct = {
        json.dumps(r, sort_keys=True): r
        for r in json.loads(next(video.glob("*.json")).read_text(encoding="utf-8"))
        if not r["incognito_mode"]
    }
    extended: Counter[tuple[str, str, str, int]] = Counter()
    for r in distinct.values():
        artist = r["master_metadata_album_artist_name"] or r["episode_show_name"]
        track = r["master_metadata_track_name"] or r["episode_name"]
        if artist and track:
            extended[(r["ts"][:16].replace("T", " "), _key(artist), _key(track), r["ms_played"])] += 1
    copies: Counter[tuple[str, str, str, int]] = Counter()
    for (end, artist, track, ms), n in _account_rows(account).items():
        if artist and track:
            copies[(end, _key(artist), _key(track), ms)] += n
    expected = sum((extended & copies).values())

    ext_report, account_report = import_paths(store, "al", [video, account])
    assert account_report.merged_certain == expected > 500
    result = summary(store, "al")
    assert result.events == ext_report.added + account_report.added - expected
    assert result.merged_duplicates == expected
    assert all(m.confidence == "certain" for m in list_merges(store, "al"))


def test_scrobbles_of_spotify_plays_are_merged_and_can_be_undone(store: Store, tmp_path: Path) -> None:
    export = write_demo_export(tmp_path, plays=3000)
    with (export / "lastfm_scrobbles.csv").open(encoding="utf-8") as fp:
        scrobbles = list(csv.DictReader(fp))
    [report] = import_paths(store, "demo", [export])
    assert report.merged_certain + report.merged_probable == len(scrobbles) > 100
    assert report.merged_probable == 0  # scrobble times lie within 3 s of the play's start
    before = summary(store, "demo")
    assert before.events == report.added - len(scrobbles)
    assert {s.source for s in before.by_source} == {"spotify_extended"}

    merge = list_merges(store, "demo")[0]
    assert str(merge.kept).startswith("spotify_extended: ") and str(merge.duplicate).startswith("lastfm: ")
    undo_merge(store, "demo", merge.merge_id)
    assert summary(store, "demo").events == before.events + 1
    assert list_merges(store, "demo", include_undone=True)[0].undone
    # Re-importing does not merge the pair that was deliberately separated.
    import_paths(store, "demo", [export])
    assert summary(store, "demo").events == before.events + 1


def test_scrobbles_alone_are_never_merged_with_each_other(store: Store, tmp_path: Path) -> None:
    export = write_demo_export(tmp_path, plays=500)
    [report] = import_paths(store, "solo", [export / "lastfm_scrobbles.csv"])
    assert report.merged_certain == report.merged_probable == 0
    assert summary(store, "solo").events == report.added


EVENING = DATA / "merges" / "one_evening_three_exports"
EXPORTS = {name: EVENING / name for name in ("spotify_extended", "spotify_account", "lastfm")}


def _merges(store: Store, profile: str) -> set[tuple[str, str, str]]:
    """Every active merge as (kept copy, merged copy, label): no ids, which depend on when a merge was found."""
    return {(str(m.kept), str(m.duplicate), m.confidence) for m in list_merges(store, profile)}


def test_a_scrobble_is_never_folded_into_a_skip_too_short_to_be_scrobbled(store: Store) -> None:
    # 20:04:35 a 3-second skip of "Ostinato" on Spotify; 20:07:11 a real listen of it elsewhere, scrobbled.
    import_paths(store, "me", [EXPORTS["spotify_extended"], EXPORTS["lastfm"]])
    assert summary(store, "me").events == 7  # six Spotify plays and the scrobbled listen
    merged = _merges(store, "me")
    assert len(merged) == 5
    assert not [m for m in merged if "Ostinato" in m[0]]


def test_an_account_data_copy_of_a_scrobble_is_certain(store: Store) -> None:
    # Account data keeps the end to the minute: its start lies anywhere in the minute before end - ms played.
    import_paths(store, "me", [EXPORTS["spotify_account"], EXPORTS["lastfm"]])
    assert summary(store, "me").events == 7
    assert {label for _, _, label in _merges(store, "me")} == {"certain"}


@pytest.mark.parametrize("order", list(permutations(EXPORTS)))
def test_merges_and_their_labels_do_not_depend_on_the_order_of_imports(store: Store, order: tuple[str, ...]) -> None:
    with open_store(memory=True) as reference:
        import_paths(reference, "me", list(EXPORTS.values()))
        expected = _merges(reference, "me")
    for name in order:
        import_paths(store, "me", [EXPORTS[name]])
    assert _merges(store, "me") == expected
    assert summary(store, "me").events == 7
    # Every account-data copy and every scrobble is kept as a copy of the extended-history play.
    assert {(kept.split(":")[0], label) for kept, _, label in expected} == {("spotify_extended", "certain")}
    assert len(expected) == 6 + 5


def test_merge_numbers_survive_an_import_that_changes_nothing(store: Store) -> None:
    import_paths(store, "me", list(EXPORTS.values()))
    before = {(m.merge_id, m.kept, m.duplicate) for m in list_merges(store, "me")}
    import_paths(store, "me", list(EXPORTS.values()))
    assert {(m.merge_id, m.kept, m.duplicate) for m in list_merges(store, "me")} == before


def test_plays_of_two_services_own_logs_are_never_one_listen() -> None:
    start = datetime(2024, 8, 2, 20, 0, 12, tzinfo=UTC)

    def play(source: Source, offset_s: int) -> Play:
        when = start + timedelta(seconds=offset_s)
        return Play(source, f"{source}.json", 0, start_utc=when, ms_played=200_000, track="Paper Moon", artist="Lila")

    plays = [play(Source.SPOTIFY_EXTENDED, 0), play(Source.APPLE_MUSIC, 2), play(Source.YOUTUBE_MUSIC, 4)]
    with open_store(memory=True) as store, store.transaction():
        store.ensure_profile("me")
        for one in plays:
            insert_items(store, "me", one.source_file, [PlayBatch.from_plays(one.source_file, [one])])
        assert list_merges(store, "me") == []
        assert summary(store, "me").events == 3
