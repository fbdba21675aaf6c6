from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta

import numpy as np
import pytest

from tests.helpers.deep_fixtures import sample_store, scoped, song, synthetic_store, utc
from tutti.insights import eras as eras_module
from tutti.insights.eras import Era, eras
from tutti.model import Play

# Three phases with no artist in common, over one background artist heard throughout.
PHASES = [
    ("2015-01", 12, {"Radiohead": 40, "Björk": 25, "Portishead": 15}),
    ("2016-01", 10, {"Daft Punk": 40, "Justice": 25, "Air": 15}),
    ("2016-11", 14, {"Nina Simone": 40, "Billie Holiday": 25, "Etta James": 15}),
]
BACKGROUND = {"The Beatles": 20}


def _month(start: str, offset: int) -> datetime:
    year, month = (int(x) for x in start.split("-"))
    index = year * 12 + month - 1 + offset
    return utc(index // 12, index % 12 + 1, 1)


def _phased_history(seed: int = 7, plays_per_month: int = 40) -> list[Play]:
    chooser = random.Random(seed)
    plays = []
    for start, months, weights in PHASES:
        mix = {**weights, **BACKGROUND}
        for offset in range(months):
            first = _month(start, offset)
            for i, artist in enumerate(chooser.choices(list(mix), weights=list(mix.values()), k=plays_per_month)):
                when = first + timedelta(hours=17 * i + 1, minutes=chooser.randrange(60))
                plays.append(song(artist, f"{artist} song {chooser.randrange(5)}", when))
    return plays


def test_three_clear_phases_give_three_eras_named_after_their_artists() -> None:
    store = synthetic_store(_phased_history())
    with scoped(store, "2016") as scope:  # the period does not matter: eras cover the whole history
        found = eras(scope)
    assert len(found) == 3
    assert [(e.start, e.end) for e in found] == [("2015-01", "2015-12"), ("2016-01", "2016-10"), ("2016-11", "2017-12")]
    assert [e.name for e in found] == [
        "The Radiohead, Björk & Portishead era",
        "The Daft Punk, Justice & Air era",
        "The Nina Simone, Billie Holiday & Etta James era",
    ]
    assert [e.plays for e in found] == [12 * 40, 10 * 40, 14 * 40]
    assert [e.ms_played for e in found] == [12 * 40 * 200_000, 10 * 40 * 200_000, 14 * 40 * 200_000]
    assert all(0.1 < share < 0.55 for e in found for share in e.shares)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_boundaries_are_found_within_a_month_whatever_the_noise(seed: int) -> None:
    store = synthetic_store(_phased_history(seed, plays_per_month=25))
    with scoped(store, "all") as scope:
        found = eras(scope)
    assert len(found) == 3
    assert abs(_months_between(found[1].start, "2016-01")) <= 1
    assert abs(_months_between(found[2].start, "2016-11")) <= 1
    assert [set(e.artists) for e in found] == [set(weights) for _, _, weights in PHASES]


def _months_between(a: str, b: str) -> int:
    (ya, ma), (yb, mb) = ((int(x) for x in s.split("-")) for s in (a, b))
    return (ya * 12 + ma) - (yb * 12 + mb)


def test_one_steady_taste_is_one_era_and_thin_months_are_left_out() -> None:
    plays = [song("Air", "Sexy Boy", utc(2020, m, d, h)) for m in range(1, 11) for d in range(1, 6) for h in (8, 20)]
    plays += [song("Justice", "D.A.N.C.E.", utc(2020, m, 5)) for m in range(1, 11)]
    plays += [song("Metallica", "One", utc(2021, 6, d)) for d in range(1, 4)]  # a thin month: 3 plays
    with scoped(synthetic_store(plays), "all") as scope:
        assert eras(scope) == [
            Era(
                "2020-01",
                "2020-10",
                "The Air & Justice era",
                ["Air", "Justice"],
                110 * 200_000,
                110,
                10,
                [0.9091, 0.0909],
            )
        ]


def test_an_empty_or_short_history_has_no_eras_to_cut() -> None:
    with scoped(synthetic_store([song("Air", "Sexy Boy", utc(2020, 1, 1))]), "all") as scope:
        assert eras(scope) == []


def test_names_read_naturally() -> None:
    name = eras_module._era_name
    assert name(["Radiohead"]) == "The Radiohead era"
    assert name(["The Cure", "Björk"]) == "The Cure & Björk era"
    assert name(["A", "B", "C"]) == "The A, B & C era"


def test_ten_years_of_months_are_cut_into_eras_of_the_least_length() -> None:
    # Its speed is part of the recap's, which benchmarks/recap.py measures.
    chooser = random.Random(3)
    months, artists = 120, 2400  # every artist of some month's top 20
    shares = np.array([[chooser.random() ** 8 for _ in range(artists)] for _ in range(months)])
    units = shares / np.linalg.norm(shares, axis=1, keepdims=True)
    cuts = eras_module._best_cuts(units)
    assert cuts[-1] == months
    assert all(b - a >= eras_module.MIN_ERA_MONTHS for a, b in zip([0, *cuts], cuts, strict=False))


@pytest.mark.samples
@pytest.mark.parametrize(
    ("sample", "low", "high"),
    [
        (("lastfm", "pingw33n"), 3, 10),  # 2008-2020 scrobbles, one broad listener
        (("spotify-account", "fedecalendino-2020-11"), 1, 4),  # 13 months
        (("spotify-account", "romainleclair"), 1, 3),  # 13 months
    ],
)
def test_real_histories_get_a_sensible_number_of_eras(sample: tuple[str, str], low: int, high: int) -> None:
    store = sample_store(*sample)
    with scoped(store, "all", "Europe/Berlin") as scope:
        found = eras(scope)
        music = scope.query("SELECT count(*) FROM {history} WHERE counts AND kind = 'music' AND artist IS NOT NULL")
    assert low <= len(found) <= high
    assert all(e.months >= eras_module.MIN_ERA_MONTHS and len(e.artists) == 3 for e in found)
    assert all(a.end < b.start for a, b in itertools.pairwise(found))
    [(total,)] = music
    assert isinstance(total, int) and sum(e.plays for e in found) <= total
    assert len({e.name for e in found}) == len(found)
