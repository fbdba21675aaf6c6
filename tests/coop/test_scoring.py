"""Points: volume, span, diversity and richness of what a contribution adds, and nothing for what was there."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from tests.helpers.fabrications import PADDING
from tests.helpers.scoring import NOTHING, plays, points
from tutti.coop.contributions.reading import read_upload
from tutti.coop.contributions.scoring import PLAYS_PER_POINT, score
from tutti.coop.pool.contract import play_identity


@pytest.mark.samples
def test_a_first_contribution_is_scored_in_four_named_parts() -> None:
    mica = plays("spotify-extended", "mica-92")
    result = score(mica, NOTHING)
    parts = points(result)
    assert list(parts) == ["volume", "span", "diversity", "richness"]
    assert parts["volume"] == mica.num_rows // PLAYS_PER_POINT == 32
    # mica-92 holds seven plays of 2015 and five months of 2024: its weeks with plays count, not the nine years.
    span = next(item for item in result.items if item.name == "span")
    assert "spans 3298 days" in span.explanation
    assert 20 <= parts["span"] <= 30
    assert parts["diversity"] > 0 and result.total == sum(parts.values())
    assert all(item.explanation for item in result.items)


@pytest.mark.samples
def test_extended_history_is_richer_than_scrobbles() -> None:
    spotify = points(score(plays("spotify-extended", "mica-92"), NOTHING))
    lastfm_rows = plays("lastfm", "pingw33n").slice(0, 3_290)
    lastfm = points(score(lastfm_rows, NOTHING))
    assert spotify["volume"] == lastfm["volume"]
    assert spotify["richness"] > 0.8 * spotify["volume"]
    assert lastfm["richness"] < 0.3 * lastfm["volume"]


@pytest.mark.samples
def test_plays_already_pooled_add_nothing() -> None:
    mica = plays("spotify-extended", "mica-92")
    assert score(mica.slice(0, 0), mica).total == 0


@pytest.mark.samples
def test_a_refresh_scores_only_its_increment() -> None:
    older, newer = plays("spotify-account", "fedecalendino-2020-11"), plays("spotify-account", "fedecalendino-2021-01")
    increment = newer.filter(pc.invert(pc.is_in(newer.column("play_id"), value_set=older.column("play_id"))))
    refresh = points(score(increment, older))
    assert refresh["volume"] == increment.num_rows // PLAYS_PER_POINT
    # The newer export reaches two months further: its span points are those weeks, not a whole year's.
    assert 7 <= refresh["span"] <= 10
    whole = points(score(newer, NOTHING))
    assert refresh["volume"] < whole["volume"] and refresh["diversity"] < whole["diversity"]


def test_padding_of_one_track_earns_next_to_nothing_for_diversity() -> None:
    padded = points(score(play_identity(read_upload([PADDING]).table), NOTHING))
    assert padded["volume"] == 1 and padded["diversity"] == 0
