from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from tests.helpers.store_fixtures import Raw, play, sample_scope, scope_of
from tutti.insights.period import Period
from tutti.insights.totals import KindTotals, Totals, totals
from tutti.model import ContentKind
from tutti.names import artist_key, track_key


def _kind(events: list[Raw], kind: str, title: str) -> KindTotals:
    mine = [e for e in events if e.kind == kind]
    fold = artist_key if title == "artist" else str.lower  # artists and shows by name key, books by name
    titles = {fold(getattr(e, title)) for e in mine if e.counts and getattr(e, title) is not None}
    return KindTotals(len(mine), sum(e.counts for e in mine), sum(e.played for e in mine), len(titles))


def expected_totals(events: list[Raw], period: str) -> Totals:
    """Every figure of ``totals`` recomputed from raw events with plain Python."""
    music = [e for e in events if e.kind == "music" and e.counts]
    artists = {artist_key(e.artist) for e in music if e.artist}
    tracks = {(artist_key(e.artist), track_key(e.track)) for e in music if e.artist and e.track}
    albums = {(artist_key(e.artist), e.album.lower()) for e in music if e.artist and e.album}
    ms = sum(e.played for e in events)
    days = sorted({e.day for e in events})
    bounds = Period.parse(period)
    if bounds.start and bounds.end:
        span: int | None = (bounds.end - bounds.start).days
    elif days:
        span = ((bounds.end or date.fromordinal(days[-1].toordinal() + 1)) - (bounds.start or days[0])).days
    else:
        span = None
    return Totals(
        rule="default-v1",
        period=bounds.label,
        events=len(events),
        plays=sum(e.counts for e in events),
        ms_played=ms,
        minutes=ms / 60_000,
        artists=len(artists),
        tracks=len(tracks),
        albums=len(albums),
        days_listened=len({e.day for e in events if e.counts}),
        days_in_period=span,
        ms_known_share=sum(e.ms is not None for e in events) / len(events) if events else 0.0,
        music=_kind(events, "music", "artist"),
        podcasts=_kind(events, "podcast", "artist"),
        audiobooks=_kind(events, "audiobook", "album"),
        first_local=min((e.local for e in events), default=None),
        last_local=max((e.local for e in events), default=None),
        first_day=days[0] if days else None,
        last_day=days[-1] if days else None,
        ms_estimated=sum(e.played for e in events if e.ms is None),
    )


@pytest.mark.samples
@pytest.mark.parametrize(
    ("sample", "period", "zone"),
    [
        ("mica-92", "all", "UTC"),
        ("mica-92", "2024-10", "America/Argentina/Buenos_Aires"),
        ("hobbies-w-erin", "2024", "America/Chicago"),
        ("hobbies-w-erin", "all", "UTC"),
        ("pingw33n", "2019", "Europe/Moscow"),
    ],
)
def test_totals_match_an_independent_count_of_the_raw_export(
    tmp_path: Path, sample: str, period: str, zone: str
) -> None:
    with sample_scope(tmp_path, sample, period, zone) as (scope, events):
        assert events, "the period should hold listening"
        assert totals(scope) == expected_totals(events, period)


def test_a_small_history_adds_up() -> None:
    plays = [
        play(0, 200_000, "Daft Punk", "One More Time", album="Discovery"),
        play(5, 10_000, "daft punk", "one more time", album="discovery"),  # too short, same track and album
        play(10, 100_000, "Daft Punk", "Aerodynamic", album="Discovery", skipped=True),  # skipped: no play
        play(15, None, "Air", "La femme d'argent", album="Moon Safari"),  # a scrobble: counts, 3.5 min estimated
        play(60 * 24, 1_800_000, "Some Show", "Episode 1", kind=ContentKind.PODCAST),
        play(60 * 48, 600_000, "An Author", "Chapter 1", album="A Book", kind=ContentKind.AUDIOBOOK),
    ]
    with scope_of(plays) as scope:
        result = totals(scope)
    assert result == Totals(
        rule="default-v1",
        period="all",
        events=6,
        plays=4,
        ms_played=2_920_000,
        minutes=2_920_000 / 60_000,
        artists=2,
        tracks=2,
        albums=2,
        days_listened=3,
        days_in_period=3,
        ms_known_share=5 / 6,
        music=KindTotals(events=4, plays=2, ms_played=520_000, titles=2),
        podcasts=KindTotals(events=1, plays=1, ms_played=1_800_000, titles=1),
        audiobooks=KindTotals(events=1, plays=1, ms_played=600_000, titles=1),
        first_local=datetime(2024, 3, 4, 12, 0),
        last_local=datetime(2024, 3, 6, 12, 0),
        first_day=date(2024, 3, 4),
        last_day=date(2024, 3, 6),
        ms_estimated=210_000,
    )


def test_a_scrobble_is_estimated_from_the_same_tracks_timed_plays_elsewhere() -> None:
    plays = [
        play(0, 240_000, "Daft Punk", "One More Time"),  # timed plays of the track: 240 s and 250 s (median 245 s)
        play(10, 250_000, "DAFT PUNK", "One More Time (Radio Edit)"),  # the same name keys
        play(20, 5_000, "Daft Punk", "One More Time", skipped=True),  # a skip says nothing of the track's length
        play(30, None, "daft punk", "one more time"),  # a scrobble of it: 245 s, estimated
        play(40, None, "Nobody Known", "Nowhere"),  # a scrobble of a track never timed: the default 3.5 min
        play(50, None, "Some Show", "Episode", kind=ContentKind.PODCAST),  # not music: no estimate
    ]
    with scope_of(plays) as scope:
        result = totals(scope)
        rows = scope.query("SELECT track, ms, ms_known, ms_estimated FROM {plays} ORDER BY start_utc")
    assert rows[3:] == [("one more time", 245_000, False, True), ("Nowhere", 210_000, False, True),
                        ("Episode", 0, False, False)]  # fmt: skip
    assert result.ms_estimated == 245_000 + 210_000
    assert result.ms_played == 240_000 + 250_000 + 5_000 + 245_000 + 210_000
    assert result.ms_known_share == 3 / 6


def test_a_bounded_period_counts_its_calendar_days_even_when_quiet() -> None:
    with scope_of([play(0)], period="2024") as scope:
        assert totals(scope).days_in_period == 366
    with scope_of([play(0)], period="2030") as scope:
        result = totals(scope)
    assert (result.events, result.days_in_period, result.first_local, result.ms_known_share) == (0, 365, None, 0.0)
    assert result.music == KindTotals(0, 0, 0, 0)


def test_an_empty_open_period_has_no_day_count() -> None:
    with scope_of([play(0)], period="2030-01-01..") as scope:
        assert totals(scope).days_in_period is None
