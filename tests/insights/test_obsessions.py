from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

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
from tutti.insights.obsessions import Comeback, Obsession, comebacks, obsessions
from tutti.names import artist_key, track_key

SAMPLES = [
    (("lastfm", "pingw33n"), "Europe/Berlin", "2014"),
    (("lastfm", "pingw33n"), "Europe/Berlin", "all"),
    (("spotify-account", "romainleclair"), "Europe/Paris", "2020"),
    (("spotify-account", "romainleclair"), "Europe/Paris", "2020-06"),
]


def _raw(sample: tuple[str, str], zone: str) -> list[RawPlay]:
    folder = samples_path(*sample)
    if sample[0] == "lastfm":
        return lastfm_no_header(folder / "lastfm_scrobbles.csv", zone)
    return spotify_account(folder, zone)


def _most_common(counted: Counter[str]) -> str:
    return min(counted, key=lambda text: (-counted[text], text))


def _expected_obsessions(raw: list[RawPlay], period: str) -> list[Obsession]:
    """Per track, the 7-day window (from a play's day) with most counted plays; >= 5 and >= half of the period's."""
    days: dict[tuple[str, str], list[date]] = {}
    names: dict[tuple[str, str], tuple[Counter[str], Counter[str]]] = {}
    for p in raw:
        if p.kind == "music" and p.artist and p.track and p.counts and in_period(p.day, period):
            key = (artist_key(p.artist) or "", track_key(p.track) or "")
            days.setdefault(key, []).append(p.day)
            spelt = names.setdefault(key, (Counter(), Counter()))
            spelt[0][p.artist] += 1
            spelt[1][p.track] += 1
    found = []
    for key, played in days.items():
        played.sort()
        best_count, best_start, best_end = 0, played[0], played[0]
        for start in sorted(set(played)):
            inside = [d for d in played if start <= d <= start + timedelta(days=6)]
            if len(inside) > best_count:
                best_count, best_start, best_end = len(inside), start, max(inside)
        if best_count >= 5 and best_count >= 0.5 * len(played):
            artist, track = (_most_common(c) for c in names[key])
            found.append(Obsession(track, artist, best_start, best_end, best_count, len(played)))
    return sorted(found, key=lambda o: (-o.plays_in_window, -o.plays_in_period, o.track, o.artist or ""))


def _expected_comebacks(raw: list[RawPlay], period: str, min_gap: int) -> list[Comeback]:
    """Counted plays resuming in the period after >= min_gap days of silence, with >= 3 plays before it."""
    counted = sorted((p for p in raw if p.counts), key=lambda p: p.local)
    listening_days = sorted({p.day for p in counted})
    by_artist: dict[str, list[RawPlay]] = {}
    for p in counted:
        if p.kind == "music" and p.artist:
            by_artist.setdefault(artist_key(p.artist) or "", []).append(p)
    found = []
    for plays in by_artist.values():
        best: tuple[int, int] | None = None  # (gap, index of the return)
        for i in range(3, len(plays)):
            gap = (plays[i].day - plays[i - 1].day).days
            if gap >= min_gap and in_period(plays[i].day, period) and (best is None or gap > best[0]):
                best = (gap, i)
        if best is None:
            continue
        gap, i = best
        before, back = plays[i - 1].day, plays[i].day
        after = sum(1 for p in plays[i:] if in_period(p.day, period))
        quiet = sum(1 for d in listening_days if before < d < back)
        found.append(Comeback(min(p.artist or "" for p in plays), before, back, gap, after, i, quiet))
    return sorted(found, key=lambda c: (-c.plays_after, -c.gap_days, c.artist))


@pytest.mark.samples
@pytest.mark.parametrize(("sample", "zone", "period"), SAMPLES)
def test_obsessions_match_an_independent_count_from_the_raw_files(
    sample: tuple[str, str], zone: str, period: str
) -> None:
    expected = _expected_obsessions(_raw(sample, zone), period)
    with scoped(sample_store(*sample), period, zone) as scope:
        assert obsessions(scope, n=100_000) == expected
        assert obsessions(scope) == expected[:10]
    assert expected


@pytest.mark.samples
@pytest.mark.parametrize(("sample", "zone", "period"), SAMPLES)
def test_comebacks_match_an_independent_count_from_the_raw_files(
    sample: tuple[str, str], zone: str, period: str
) -> None:
    raw = _raw(sample, zone)
    with scoped(sample_store(*sample), period, zone) as scope:
        for gap in (180, 60):
            expected = _expected_comebacks(raw, period, gap)
            assert comebacks(scope, min_gap_days=gap, n=100_000) == expected
            assert comebacks(scope, min_gap_days=gap) == expected[:10]
        assert expected


def test_a_burst_is_an_obsession_and_a_steady_favourite_is_not() -> None:
    when = [(3, 9), (3, 10), (4, 9), (5, 9), (9, 9), (9, 22)]  # two a day count twice
    burst = [song("Kate Bush", "Running Up That Hill", utc(2024, 6, d, h)) for d, h in when]
    steady = [song("Air", "La Femme d'Argent", utc(2024, m, 1)) for m in range(1, 13)]
    short = [song("Air", "Sexy Boy", utc(2024, 2, d), ms=20_000) for d in range(1, 8)]  # under 30 s: no plays
    store = synthetic_store([*burst, *steady, *short])
    with scoped(store, "2024") as scope:
        assert obsessions(scope) == [
            Obsession("Running Up That Hill", "Kate Bush", date(2024, 6, 3), date(2024, 6, 9), 6, 6)
        ]
    with scoped(store, "2024-06-01..2024-06-05") as scope:
        assert obsessions(scope) == []  # four plays only inside this period


def test_a_comeback_needs_a_long_silence_and_a_past() -> None:
    plays = [song("Portishead", "Roads", utc(2020, 1, d)) for d in (1, 2, 3)]
    plays += [song("Portishead", "Glory Box", utc(2024, 3, d)) for d in (1, 2)]
    plays += [song("Massive Attack", "Teardrop", utc(2020, 1, 5)), song("Massive Attack", "Angel", utc(2024, 3, 3))]
    plays += [song("Tricky", "Overcome", utc(2023, m, 1)) for m in range(1, 13)]  # the listener kept listening
    store = synthetic_store(plays)
    with scoped(store, "2024") as scope:
        assert comebacks(scope) == [
            Comeback("Portishead", date(2020, 1, 3), date(2024, 3, 1), 1519, 2, 3, 13),
        ]
        assert comebacks(scope, min_gap_days=2000) == []
    with scoped(store, "2023") as scope:
        assert comebacks(scope) == []
