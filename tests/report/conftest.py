"""Recaps to test the report with: a small synthetic history (always) and real sample exports (where present).

The synthetic listener, in Europe/Berlin (UTC+1 in early March 2024), with every figure worked out by hand in
the tests: Aurora Fields (heard first in 2023) four days in a row, Basalt twice, one skipped ten-second Cirrus
event, a half-hour podcast episode and one song whose names need escaping in HTML.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import samples_path
from tutti.insights.period import Period
from tutti.insights.recap import Recap, build_recap
from tutti.insights.rules import DEFAULT_RULE, PlayRule
from tutti.insights.scope import open_scope
from tutti.insights.zones import ZonePlan
from tutti.model import ContentKind, Platform, Play, PlayBatch, Source
from tutti.store import Store, open_store
from tutti.store.ingest import import_paths, insert_items

SYNTH_ZONE = "Europe/Berlin"
MONDAY = datetime(2024, 3, 4, 18, 0, tzinfo=UTC)  # 19:00 in Berlin
TRICKY_ARTIST = "Zoë & <The Quotes>"
TRICKY_TRACK = 'Say "hi" </script><script>alert(1)</script>'


def _play(index: int, start: datetime, artist: str, track: str, ms: int, **extra: object) -> Play:
    fields: dict[str, object] = {
        "source": Source.SPOTIFY_EXTENDED,
        "source_file": "synthetic.json",
        "record_index": index,
        "start_utc": start,
        "ms_played": ms,
        "track": track,
        "artist": artist,
        "album": f"{track} (album)",
        "platform": Platform.ANDROID,
        "country": "DE",
        "reason_end": "trackdone",
        "shuffle": False,
        "skipped": False,
        "offline": False,
    }
    fields.update(extra)
    return Play(**fields)  # type: ignore[arg-type]


def synthetic_plays() -> list[Play]:
    day = timedelta(days=1)
    plays = [_play(0, MONDAY - 70 * day, "Aurora Fields", "Morning", 200_000)]  # 2023: before the period
    plays += [_play(1 + i, MONDAY + i * day, "Aurora Fields", "Morning", 200_000) for i in range(4)]
    plays += [
        _play(5, MONDAY + timedelta(minutes=10), "Basalt", "Stone", 300_000, shuffle=True),
        _play(6, MONDAY + 10 * day, "Basalt", "Stone", 300_000, platform=Platform.DESKTOP),
        _play(7, MONDAY + day + timedelta(minutes=20), "Cirrus", "Cloud", 10_000, skipped=True, reason_end="fwdbtn"),
        _play(
            8,
            MONDAY + 5 * day,
            "The Show",
            "Episode 1",
            1_800_000,
            album=None,
            content_kind=ContentKind.PODCAST,
            country="FR",
        ),
        _play(9, MONDAY + 7 * day, TRICKY_ARTIST, TRICKY_TRACK, 60_000, offline=True),
    ]
    return plays


@pytest.fixture
def synthetic_store() -> Iterator[Store]:
    with open_store(memory=True) as store:
        with store.transaction():
            store.ensure_profile("me")
            insert_items(store, "me", "synthetic", [PlayBatch.from_plays("synthetic.json", synthetic_plays())])
        yield store


def recap_of(
    store: Store, profile: str, period: str, zone: str, rule: PlayRule = DEFAULT_RULE, top_n: int | None = None
) -> Recap:
    scope = open_scope(store, profile, Period.parse(period), rule, ZonePlan.single(zone))
    try:
        return build_recap(scope, top_n)
    finally:
        scope.close()


@pytest.fixture
def synthetic_recap(synthetic_store: Store) -> Recap:
    return recap_of(synthetic_store, "me", "2024", SYNTH_ZONE)


# Real exports: one with Spotify's own yearly file (account data), one with skips and devices (extended history).
ERIN = ("spotify-account", "hobbies-w-erin")
ERIN_ZONE = "America/New_York"
MICA = ("spotify-extended", "mica-92")
MICA_ZONE = "Europe/Berlin"


def sample_recap(parts: tuple[str, ...], period: str, zone: str) -> Recap:
    path: Path = samples_path(*parts)
    with open_store(memory=True) as store:
        import_paths(store, "sample", [path])
        return recap_of(store, "sample", period, zone)


@pytest.fixture(scope="session")
def erin_recap() -> Recap:
    return sample_recap(ERIN, "2023", ERIN_ZONE)


@pytest.fixture(scope="session")
def mica_recap() -> Recap:
    return sample_recap(MICA, "2024", MICA_ZONE)
