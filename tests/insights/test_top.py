from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest

from tests.helpers.store_fixtures import expected_ranking, play, sample_scope, scope_of
from tutti.errors import UsageError
from tutti.insights.top import Ranked, top_albums, top_artists, top_shows, top_tracks, top_tracks_of_day
from tutti.model import ContentKind, Play

LISTS: dict[str, tuple[Callable[..., list[Ranked]], str, str, str | None]] = {
    "artists": (top_artists, "music", "artist", None),
    "tracks": (top_tracks, "music", "track", "artist"),
    "albums": (top_albums, "music", "album", "artist"),
    "shows": (top_shows, "podcast", "artist", None),
}


@pytest.mark.samples
@pytest.mark.parametrize(
    ("sample", "period", "zone"),
    [
        ("mica-92", "all", "UTC"),
        ("mica-92", "2024-Q4", "America/Argentina/Buenos_Aires"),
        ("hobbies-w-erin", "2024", "America/Chicago"),
        ("pingw33n", "2019", "Europe/Moscow"),
    ],
)
def test_top_lists_match_an_independent_ranking_of_the_raw_export(
    tmp_path: Path, sample: str, period: str, zone: str
) -> None:
    with sample_scope(tmp_path, sample, period, zone) as (scope, events):
        for what, (insight, kind, name, artist) in LISTS.items():
            for by in ("time", "plays"):
                expected = expected_ranking(events, kind, name, artist, by)
                assert insight(scope, by=by) == expected, (what, by)
                assert insight(scope, 5, by) == expected[:5], (what, by)
        assert top_artists(scope, 1)[0].plays > 0  # scrobbles have no time: their lists rank by plays


def _history() -> list[Play]:
    return [
        play(0, 200_000, "Björk", "Joga", album="Homogenic"),
        play(5, 200_000, "björk", "jóga", album="homogenic"),  # another spelling of the same artist
        play(10, 100_000, "ABBA", "SOS", album="ABBA"),
        play(15, 100_000, "ABBA", "SOS", album="ABBA", skipped=True),
        play(20, 200_000, "Air", "Sexy Boy", album="Moon Safari"),
        play(25, 200_000, "Air", "Kelly", album="Moon Safari"),
        play(30, 10_000, "Air", "Talisman", album="Moon Safari"),
        play(35, 3_000_000, "A Show", "Ep. 1", kind=ContentKind.PODCAST),
    ]


def test_artists_rank_by_time_then_plays_then_name() -> None:
    with scope_of(_history()) as scope:
        by_time = top_artists(scope)
        by_plays = top_artists(scope, by="plays")
    assert [(r.rank, r.name, r.ms_played, r.plays, r.events) for r in by_time] == [
        (1, "Air", 410_000, 2, 3),
        (2, "Björk", 400_000, 2, 2),  # 'Björk' sorts before 'björk'
        (3, "ABBA", 200_000, 1, 2),
    ]
    assert [r.name for r in by_plays] == ["Air", "Björk", "ABBA"]  # Air and Björk tie on plays; more time first
    assert by_time[1].first_local == datetime(2024, 3, 4, 12, 0)
    assert by_time[0].artist is None


def test_tracks_albums_and_shows_keep_their_own_kind() -> None:
    with scope_of(_history()) as scope:
        tracks = top_tracks(scope)
        albums = top_albums(scope)
        shows = top_shows(scope)
    # 'Joga' and 'jóga' share a name key: one track, under the spelling that sorts first of the equally common;
    # equal time and plays: by name key, the artist's first; 'Talisman', only a 10 s skip, has no play and no place
    assert [(r.name, r.artist, r.ms_played) for r in tracks] == [
        ("Joga", "Björk", 400_000),
        ("SOS", "ABBA", 200_000),
        ("Kelly", "Air", 200_000),
        ("Sexy Boy", "Air", 200_000),
    ]
    assert [(r.name, r.artist, r.plays) for r in albums] == [
        ("Moon Safari", "Air", 2),
        ("Homogenic", "Björk", 2),
        ("ABBA", "ABBA", 1),
    ]
    assert [(r.rank, r.name, r.artist, r.ms_played) for r in shows] == [(1, "A Show", None, 3_000_000)]


def test_tracks_of_one_day_and_bad_arguments() -> None:
    with scope_of([*_history(), play(60 * 24, 200_000, "Air", "Kelly")]) as scope:
        day = top_tracks_of_day(scope, date(2024, 3, 5))
        with pytest.raises(UsageError):
            top_tracks(scope, by="mood")
        with pytest.raises(UsageError):
            top_artists(scope, -1)
    assert [(r.rank, r.name, r.events) for r in day] == [(1, "Kelly", 1)]


def test_an_empty_period_has_empty_lists() -> None:
    with scope_of([play(0)], period="2030") as scope:
        assert [f(scope) for f in (top_artists, top_tracks, top_albums, top_shows)] == [[], [], [], []]
