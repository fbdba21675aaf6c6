from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import pytest

from tests.conftest import samples_path
from tests.helpers.deep_fixtures import (
    RawPlay,
    in_period,
    lastfm_no_header,
    sample_store,
    scoped,
    song,
    spotify_account,
    synthetic_store,
    utc,
)
from tutti.insights.discoveries import Discoveries, Discovery, discoveries
from tutti.model import ContentKind
from tutti.names import artist_key, track_key

SCROBBLE_MS = 210_000  # the time a scrobble counts when no timed play of its track is stored


def _expected(raw: list[RawPlay], period: str, tracks: bool) -> list[Discovery]:
    """Discoveries recomputed in plain Python: first *play* ever (by name keys) in the period, ranked by plays in
    it, named by the most common spelling in the whole history."""
    music = [p for p in raw if p.kind == "music" and p.artist and (p.track or not tracks)]
    firsts: dict[tuple[str, str], datetime] = {}
    spellings: dict[tuple[str, str], tuple[Counter[str], Counter[str]]] = {}
    totals: dict[tuple[str, str], list[int]] = {}
    for p in music:
        artist_name = p.artist or ""
        key = (artist_key(artist_name) or "", (track_key(p.track) or "") if tracks and p.track else "")
        if p.counts:
            firsts[key] = min(firsts.get(key, p.local), p.local)
        artists, titles = spellings.setdefault(key, (Counter(), Counter()))
        artists[artist_name] += 1
        titles[p.track or ""] += 1
        plays_ms = totals.setdefault(key, [0, 0])
        if in_period(p.day, period):
            plays_ms[0] += p.counts
            plays_ms[1] += SCROBBLE_MS if p.ms is None else p.ms  # a scrobble of a single-source history

    def common(counted: Counter[str]) -> str:
        return min(counted, key=lambda text: (-counted[text], text))

    found = [
        Discovery(
            common(spellings[key][1 if tracks else 0]),
            common(spellings[key][0]) if tracks else None,
            first,
            *totals[key],
        )
        for key, first in firsts.items()
        if in_period(first.date(), period)
    ]
    return sorted(found, key=lambda d: (-d.plays, -d.ms_played, d.name, d.artist or ""))


@pytest.mark.samples
@pytest.mark.parametrize(
    ("sample", "reader", "zone", "period"),
    [
        (("lastfm", "pingw33n"), "lastfm", "Europe/Berlin", "2015"),
        (("lastfm", "pingw33n"), "lastfm", "Europe/Berlin", "2020-Q2"),
        (("spotify-account", "romainleclair"), "account", "Europe/Paris", "2020"),
        (("spotify-account", "romainleclair"), "account", "Europe/Paris", "all"),
    ],
)
def test_discoveries_match_an_independent_count_from_the_raw_files(
    sample: tuple[str, str], reader: str, zone: str, period: str
) -> None:
    store = sample_store(*sample)
    folder = samples_path(*sample)
    raw = (
        lastfm_no_header(folder / "lastfm_scrobbles.csv", zone) if reader == "lastfm" else spotify_account(folder, zone)
    )
    artists, tracks = _expected(raw, period, tracks=False), _expected(raw, period, tracks=True)
    with scoped(store, period, zone) as scope:
        result = discoveries(scope)
        top = discoveries(scope, n=5)
    assert (result.artist_count, result.track_count) == (len(artists), len(tracks))
    assert result.artists == artists
    assert result.tracks == tracks
    assert (top.artists, top.tracks) == (artists[:5], tracks[:5])
    assert top.artist_count == len(artists)
    assert result.history_starts == min(p.day for p in raw)
    assert artists, "the sample should discover something in this period"


def test_only_what_was_first_heard_in_the_period_is_new() -> None:
    store = synthetic_store(
        [
            song("Radiohead", "Airbag", utc(2023, 5, 1)),
            song("radiohead", "Airbag", utc(2024, 2, 1)),  # same artist and track, other spelling: not new
            song("Radiohead", "Nude", utc(2024, 2, 2)),  # a new track by a known artist
            song("Björk", "Joga", utc(2024, 3, 1), ms=10_000),  # first heard in 2024, skipped quickly
            song("Björk", "Joga", utc(2024, 3, 2)),
            song("Björk", "Hyperballad", utc(2024, 3, 3), skipped=True),
            song("Portishead", "Roads", utc(2024, 12, 31, 23, 30)),  # 2025 in Berlin
            song("Some Show", "Episode 1", utc(2024, 4, 1), kind=ContentKind.PODCAST),
            song(None, None, utc(2024, 4, 2)),
        ]
    )
    with scoped(store, "2024", "Europe/Berlin") as scope:
        result = discoveries(scope)
    berlin = datetime(2024, 3, 2, 13, 0)  # the first play of Björk: the 10 s skip the day before is not one
    assert result == Discoveries(
        artists=[Discovery("Björk", None, berlin, 1, 410_000)],
        tracks=[  # Hyperballad was only skipped: not a discovery
            Discovery("Joga", "Björk", berlin, 1, 210_000),
            Discovery("Nude", "Radiohead", datetime(2024, 2, 2, 13, 0), 1, 200_000),
        ],
        artist_count=1,
        track_count=2,
        history_starts=date(2023, 5, 1),
    )
    with scoped(store, "2025", "Europe/Berlin") as scope:
        assert [d.name for d in discoveries(scope).artists] == ["Portishead"]
    with scoped(store, "2022", "Europe/Berlin") as scope:
        empty = discoveries(scope)
    assert (empty.artists, empty.tracks, empty.artist_count) == ([], [], 0)
