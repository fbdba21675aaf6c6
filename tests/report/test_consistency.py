"""The figures of a recap never contradict each other, on every real sample and every kind of period.

For each sample export (one profile per sample) and each period kind (the whole history, its busiest year,
quarter and month, and a year with no data at all), the invariants every reader assumes:

* new artists and tracks are among the period's artists and tracks (``artist_count <= artists``);
* parts sum to their totals (days, months and the clock to plays and time; kinds to events);
* top lists are sorted by their measure, ranked 1..n, and hold only items with plays;
* the page, the JSON and the cards name the same top artist, ranked by the recap's one measure;
* the JSON validates against docs/schemas/recap.schema.json, with snake_case keys and no absolute path;
* ``tutti summary`` and ``recap all`` count the same plays, events, artists and tracks;
* an empty period says so and draws no card.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import ROOT, samples_path
from tutti.insights.period import Period
from tutti.insights.recap import Recap, build_recap, recap_to_json
from tutti.insights.rules import DEFAULT_RULE
from tutti.insights.scope import open_scope
from tutti.insights.summary import summary
from tutti.insights.top import Ranked
from tutti.insights.zones import ZonePlan
from tutti.report.canvas import Canvas
from tutti.report.cards import CARDS, THEMES, draw_cards
from tutti.report.fonts import default_fonts
from tutti.report.html import render_recap_html
from tutti.store import Store, open_store
from tutti.store.ingest import import_paths

SAMPLES = [
    ("apple-music", "vietvudanh"),
    ("lastfm", "aleex-cs"),
    ("lastfm", "florianruby"),
    ("lastfm", "mbartoli"),
    ("lastfm", "pingw33n"),
    ("spotify-account", "alanindra"),
    ("spotify-account", "fedecalendino-2020-11"),
    ("spotify-account", "fedecalendino-2021-01"),
    ("spotify-account", "hobbies-w-erin"),
    ("spotify-account", "romainleclair"),
    ("spotify-extended", "alanindra"),
    ("spotify-extended", "candidlyred"),
    ("spotify-extended", "efrrowini"),
    ("spotify-extended", "mica-92"),
    ("youtube-music", "case104"),
    ("youtube-music", "tunaerol"),
    ("listenbrainz",),
]
KINDS = ("all", "year", "quarter", "month", "empty")


@functools.cache
def _store(path: Path) -> Store:
    store = open_store(memory=True)
    import_paths(store, "me", [path])
    return store


def _period(store: Store, kind: str) -> str:
    """The sample's period of ``kind``: its busiest year, quarter or month by plays, 'all', or an empty year."""
    if kind in ("all", "empty"):
        return "all" if kind == "all" else "1990"
    shape = {"year": "%Y", "quarter": "%Y-Q", "month": "%Y-%m"}[kind]
    at = "coalesce(start_utc, end_utc)"
    bucket = f"strftime({at}, '{shape}')" + (f" || quarter({at})" if kind == "quarter" else "")
    rows = store.con.execute(
        f"SELECT {bucket} AS b FROM plays WHERE {at} IS NOT NULL GROUP BY b ORDER BY count(*) DESC, b LIMIT 1"
    ).fetchall()
    return str(rows[0][0]) if rows else "1990"  # a sample whose records are all refused has no busiest anything


def _recap(store: Store, period: str) -> Recap:
    scope = open_scope(store, "me", Period.parse(period), DEFAULT_RULE, ZonePlan.single("UTC"))
    try:
        return build_recap(scope)
    finally:
        scope.close()


@pytest.fixture(params=SAMPLES, ids=lambda parts: "-".join(parts))
def sample(request: pytest.FixtureRequest) -> Iterator[Store]:
    yield _store(samples_path(*request.param))


def _sorted_by(items: list[Ranked], measure: str) -> bool:
    keys = [(r.ms_played, r.plays) if measure == "time" else (r.plays, r.ms_played) for r in items]
    return keys == sorted(keys, reverse=True)


def _check_parts(r: Recap) -> None:
    t = r.totals
    assert r.discoveries.artist_count <= t.artists and r.discoveries.track_count <= t.tracks
    assert all(d.plays > 0 for d in (*r.discoveries.artists, *r.discoveries.tracks))
    assert sum(d.plays for d in r.daily) == sum(m.plays for m in r.monthly) == t.plays
    assert sum(d.ms_played for d in r.daily) == sum(m.ms_played for m in r.monthly) == t.ms_played
    assert sum(c.plays for c in r.clock.cells) == t.plays and sum(c.ms_played for c in r.clock.cells) == t.ms_played
    assert all(m.artists <= t.artists for m in r.monthly)
    assert t.music.titles == t.artists
    assert t.music.events + t.podcasts.events + t.audiobooks.events <= t.events
    assert t.music.plays + t.podcasts.plays + t.audiobooks.plays <= t.plays
    assert 0 <= t.ms_estimated <= t.ms_played
    assert t.days_listened == sum(1 for d in r.daily if d.plays)
    c = r.coverage
    assert c is not None and c.plays == t.plays
    assert t.days_listened <= c.covered_days
    assert c.period_days is None or c.covered_days <= c.period_days


def _check_lists(r: Recap) -> None:
    for items, measure in (
        (r.top_artists, "time"),
        (r.top_tracks, "time"),
        (r.top_albums, "time"),
        (r.top_shows, "time"),
        (r.top_artists_by_plays, "plays"),
        (r.top_tracks_by_plays, "plays"),
    ):
        assert [i.rank for i in items] == list(range(1, len(items) + 1))
        assert len(items) <= r.top_n
        assert all(i.plays > 0 for i in items), "a list padded with items that have no play"
        assert _sorted_by(items, measure)
    if r.busiest_day:
        played = [d for d in r.daily if d.plays]
        best = max(played, key=lambda d: (d.ms_played, d.plays) if r.measure == "time" else (d.plays, d.ms_played))
        assert r.busiest_day.plays > 0
        assert (r.busiest_day.ms_played, r.busiest_day.plays) == (best.ms_played, best.plays)


SCHEMA = json.loads((ROOT / "docs" / "schemas" / "recap.schema.json").read_text(encoding="utf-8"))


def _keys(data: object) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from _keys(value)
    elif isinstance(data, list):
        for value in data:
            yield from _keys(value)


def _strings(data: object) -> Iterator[str]:
    if isinstance(data, dict | list):
        for value in data.values() if isinstance(data, dict) else data:
            yield from _strings(value)
    elif isinstance(data, str):
        yield data


def _check_json(data: dict[str, object]) -> None:
    """Valid against the published schema; snake_case keys; no absolute path; numbers as numbers."""
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(data)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", key) for key in _keys(data))
    assert not [text for text in _strings(data) if text.startswith("/") or re.match(r"[A-Za-z]:\\", text)]
    assert json.loads(json.dumps(data)) == data


def _check_views(r: Recap) -> None:
    """The page, the JSON and the cards show the same first artist, in the recap's one measure."""
    data = recap_to_json(r)
    _check_json(data)
    assert data["measure"] == r.measure and data["coverage"]["status"] == r.coverage.status  # type: ignore[union-attr]
    if not r.coverage or not r.coverage.tellable:
        assert draw_cards(r) == []
        assert "Nothing to tell" in render_recap_html(r)
        return
    if not r.ranked_artists:
        return
    top = r.ranked_artists[0]
    listed = data["top_artists" if r.measure == "time" else "top_artists_by_plays"][0]
    assert listed["name"] == top.name and listed["plays"] > 0
    page = render_recap_html(r)
    assert f"{top.name} was the sound of" in unescape(page)
    canvas = Canvas("top-artist", THEMES["top-artist"], default_fonts())
    CARDS["top-artist"][0](canvas, r)
    assert top.name in canvas.card.texts


@pytest.mark.samples
@pytest.mark.parametrize("kind", KINDS)
def test_a_recaps_figures_agree_with_each_other(sample: Store, kind: str) -> None:
    r = _recap(sample, _period(sample, kind))
    _check_parts(r)
    _check_lists(r)
    _check_views(r)
    if kind == "empty":
        assert r.coverage is not None and (r.coverage.status, r.totals.plays, r.top_artists) == ("empty", 0, [])
    if kind == "all":
        s = summary(sample, "me")
        t = r.totals
        assert (s.events, s.plays, s.artists, s.tracks) == (t.events, t.plays, t.artists, t.tracks)
