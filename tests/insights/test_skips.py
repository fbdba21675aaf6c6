from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.helpers.store_fixtures import Raw, play, sample_scope, scope_of
from tutti.errors import UsageError
from tutti.insights.skips import MonthSkips, Share, SkippedTrack, Skips, skips
from tutti.names import artist_key, track_key


def _shares(events: list[Raw], field: str, unknown: set[str | None]) -> list[Share]:
    told = [e for e in events if getattr(e, field) not in unknown]
    names = {getattr(e, field) for e in told}
    shares = []
    for name in names:
        mine = [e for e in told if getattr(e, field) == name]
        shares.append(Share(name, len(mine), sum(e.played for e in mine), len(mine) / len(told)))
    return sorted(shares, key=lambda s: (-s.events, -s.ms_played, s.name))


def expected_skips(events: list[Raw], n: int) -> Skips:
    """Every figure of ``skips`` recomputed from raw events with plain Python."""
    told = [e for e in events if e.skipped is not None]
    skipped = sum(bool(e.skipped) for e in told)
    months: dict[str, list[Raw]] = {}
    for e in told:
        months.setdefault(e.day.strftime("%Y-%m"), []).append(e)
    tracks: dict[tuple[str, str | None], list[Raw]] = {}
    for e in told:
        if e.kind == "music" and e.track is not None:
            tracks.setdefault((track_key(e.track) or "", artist_key(e.artist) if e.artist else None), []).append(e)
    most = []
    for group in tracks.values():
        hits = sum(bool(e.skipped) for e in group)
        if len(group) >= 3 and hits:
            tracks_spelt = Counter(e.track for e in group if e.track)
            artists = Counter(e.artist for e in group if e.artist is not None)
            track = min(tracks_spelt, key=lambda t: (-tracks_spelt[t], t))  # the most common spelling
            artist = min(artists, key=lambda a: (-artists[a], a)) if artists else None
            most.append(SkippedTrack(track, artist, hits, len(group), hits / len(group)))
    most.sort(key=lambda t: (-t.skipped, -t.rate, t.track, t.artist or ""))
    shuffle = [e.shuffle for e in events if e.shuffle is not None]
    offline = [e.offline for e in events if e.offline is not None]
    return Skips(
        events_with_skip_info=len(told),
        skipped=skipped,
        rate=skipped / len(told) if told else None,
        by_month=[
            MonthSkips(month, len(g), sum(bool(e.skipped) for e in g), sum(bool(e.skipped) for e in g) / len(g))
            for month, g in sorted(months.items())
        ],
        most_skipped=most[:n],
        shuffle_share=sum(shuffle) / len(shuffle) if shuffle else None,
        offline_share=sum(offline) / len(offline) if offline else None,
        platforms=_shares(events, "platform", {None, "", "unknown"}),
        countries=_shares(events, "country", {None, "", "ZZ"}),
        shuffle_known=len(shuffle),
        offline_known=len(offline),
    )


@pytest.mark.samples
@pytest.mark.parametrize(
    ("sample", "period", "zone"),
    [
        ("mica-92", "all", "UTC"),
        ("mica-92", "2024-10", "America/Argentina/Buenos_Aires"),
        ("hobbies-w-erin", "2024", "America/Chicago"),
        ("pingw33n", "2019", "UTC"),
    ],
)
def test_skips_match_an_independent_count_of_the_raw_export(
    tmp_path: Path, sample: str, period: str, zone: str
) -> None:
    with sample_scope(tmp_path, sample, period, zone) as (scope, events):
        result = skips(scope)
        assert result == expected_skips(events, 10)
        assert skips(scope, n=1000) == expected_skips(events, 1000)
    if sample == "mica-92":
        assert result.rate and result.most_skipped and result.platforms and result.countries
    else:  # account data and scrobbles cannot tell
        assert (result.events_with_skip_info, result.rate, result.shuffle_share, result.platforms) == (
            0,
            None,
            None,
            [],
        )


def test_rates_and_shares_count_only_what_the_export_tells() -> None:
    plays = [
        play(0, 200_000, "Air", "Kelly", skipped=False, shuffle=True, offline=False, country="FR"),
        play(5, 20_000, "air", "kelly", skipped=True, shuffle=False, offline=False, country="FR"),
        play(10, 20_000, "Air", "Kelly", skipped=True, shuffle=True, offline=True, country="ZZ"),
        play(15, 20_000, "Moby", "Porcelain", skipped=True, country="DE"),
        play(20, 200_000, "Moby", "Porcelain", skipped=None),  # no skip information
        play(60 * 24 * 30, 200_000, "Moby", "Porcelain", skipped=False),  # April
    ]
    with scope_of(plays) as scope:
        result = skips(scope)
    assert result == Skips(
        events_with_skip_info=5,
        skipped=3,
        rate=3 / 5,
        by_month=[MonthSkips("2024-03", 4, 3, 3 / 4), MonthSkips("2024-04", 1, 0, 0.0)],
        most_skipped=[SkippedTrack("Kelly", "Air", 2, 3, 2 / 3)],  # Porcelain: only 2 events that tell
        shuffle_share=2 / 3,
        offline_share=1 / 3,
        platforms=[],  # synthetic plays carry no platform
        countries=[Share("FR", 2, 220_000, 2 / 3), Share("DE", 1, 20_000, 1 / 3)],
        shuffle_known=3,
        offline_known=3,
    )


def test_no_events_nothing_to_tell() -> None:
    with scope_of([play(0)], period="2030") as scope:
        assert skips(scope) == Skips(0, 0, None, [], [], None, None, [], [], 0, 0)
        with pytest.raises(UsageError):
            skips(scope, -1)
