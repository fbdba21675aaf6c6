from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import samples_path
from tutti.demo import write_demo_export
from tutti.insights.summary import summary
from tutti.store import Store, open_store
from tutti.store.dedupe import list_merges, undo_merge
from tutti.store.ingest import import_paths


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
    assert merge.kept.startswith("spotify_extended: ") and merge.duplicate.startswith("lastfm: ")
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
