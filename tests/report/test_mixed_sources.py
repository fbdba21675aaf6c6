"""A profile that mixes Spotify data with Last.fm scrobbles: one measure ranks the page and the cards alike.

A Last.fm export (aleex-cs) shares 2025 with two Spotify exports of another listener (alanindra): the account
data outnumbers the scrobbles (about 30,000 to 4,200 events: ranked by time), the extended history's video file is
outnumbered (368 to 4,199: ranked by plays). Scrobbles have no time played: each gets an estimate (labelled as
such), and the recap ranks by the measure most of its events support, the same on the page, in the JSON and on the
cards.
"""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.conftest import samples_path
from tutti.insights.period import Period
from tutti.insights.recap import TIMED_SHARE, Recap, build_recap, recap_to_json
from tutti.insights.scope import open_scope
from tutti.insights.zones import ZonePlan
from tutti.report.cards import draw_cards
from tutti.report.html import render_recap_html
from tutti.store import open_store
from tutti.store.ingest import import_paths

LASTFM = ("lastfm", "aleex-cs")
MIXES = {("spotify-account", "alanindra"): "time", ("spotify-extended", "alanindra"): "plays"}


@pytest.fixture(scope="module", params=list(MIXES), ids=lambda parts: parts[0])
def mixed(request: pytest.FixtureRequest) -> Recap:
    with open_store(memory=True) as store:
        import_paths(store, "me", [samples_path(*request.param), samples_path(*LASTFM)])
        scope = open_scope(store, "me", Period.parse("2025"), zones=ZonePlan.single("Europe/Madrid"))
        try:
            return build_recap(scope)
        finally:
            scope.close()


@pytest.mark.samples
def test_scrobbles_are_estimated_and_labelled(mixed: Recap) -> None:
    t = mixed.totals
    sources = {s.source for s in mixed.coverage.sources} if mixed.coverage else set()
    assert "lastfm" in sources and sources & {"spotify_account", "spotify_extended"}
    assert 0 < t.ms_estimated < t.ms_played  # scrobbles count a time, and it is not all estimated
    assert 0 < t.ms_known_share < 1
    page = unescape(render_recap_html(mixed))
    assert "hours are estimated: each at the time the same track played in your other exports" in page
    assert recap_to_json(mixed)["totals"]["ms_estimated"] == t.ms_estimated


def _in_order(texts: list[str], names: list[str]) -> bool:
    """Whether ``names`` are drawn in this order among ``texts`` (each whole, or cut short with an ellipsis)."""

    def shows(text: str, name: str) -> bool:
        return text == name or (text.endswith("…") and len(text) > 4 and name.startswith(text[:-1].rstrip()))

    at = 0
    for name in names:
        found = next((i for i in range(at, len(texts)) if shows(texts[i], name)), None)
        if found is None:
            return False
        at = found + 1
    return True


@pytest.mark.samples
def test_page_json_and_cards_rank_alike(mixed: Recap) -> None:
    expected = "plays" if mixed.totals.ms_known_share < TIMED_SHARE else "time"
    assert mixed.measure == expected
    sources = {s.source for s in mixed.coverage.sources} if mixed.coverage else set()
    assert expected == MIXES[("spotify-extended" if "spotify_extended" in sources else "spotify-account", "alanindra")]
    ranked = mixed.ranked_artists
    assert ranked == (mixed.top_artists_by_plays if expected == "plays" else mixed.top_artists)
    page = unescape(re.sub(r"<[^>]+>", "", render_recap_html(mixed)))  # the text a reader sees
    assert f"{ranked[0].name} was the sound of 2025" in page
    assert f"ranked by {expected}" in page
    cards = {card.name.split("-", 1)[1]: card for card in draw_cards(mixed)}
    artist_card, tracks_card = cards["top-artist"].texts, cards["top-tracks"].texts
    # the card's #1 and the names after it, in the page's order (a long name may be cut short with "…")
    assert _in_order(artist_card, [a.name for a in ranked[:5]])
    assert _in_order(tracks_card, [r.name for r in mixed.ranked_tracks[:5]])
    data = recap_to_json(mixed)
    assert data["measure"] == expected
    busiest = mixed.busiest_day
    assert busiest is not None
    best = max(
        (d for d in mixed.daily if d.plays),
        key=lambda d: (d.plays, d.ms_played) if expected == "plays" else (d.ms_played, d.plays),
    )
    assert (busiest.plays, busiest.ms_played) == (best.plays, best.ms_played)
