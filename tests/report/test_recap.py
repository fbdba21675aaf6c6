"""build_recap gathers every insight; recap_to_json is plain, documented JSON; `tutti recap` writes or prints it.

Figures are checked against an independent reading of the raw exports (plain json parsing here, with the
default play rule and the time zone written out), and against a synthetic history worked out by hand.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from typer.testing import CliRunner

from tests.conftest import ROOT, samples_path
from tests.report.conftest import ERIN, ERIN_ZONE, MICA, MICA_ZONE, SYNTH_ZONE, TRICKY_ARTIST, recap_of
from tutti.cli import app
from tutti.insights.recap import DEFAULT_TOP_N, Recap, recap_to_json
from tutti.insights.rules import ANY_RULE
from tutti.names import artist_key
from tutti.report.cards import draw_cards
from tutti.report.html import render_recap_html
from tutti.store import Store

DOC = ROOT / "docs" / "recap-json.md"
MIN_MS = 30_000  # the default rule: at least 30 s played and not skipped


# --- an independent reading of the raw exports --------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    local: datetime  # wall clock at the start
    kind: str
    artist: str | None
    track: str | None
    ms: int
    counts: bool


def _account(folder: Path, zone: str) -> list[Raw]:
    """Spotify account data: endTime is the end, in UTC, to the minute; the start is msPlayed earlier."""
    shapes = {"music": ("artistName", "trackName"), "podcast": ("podcastName", "episodeName")}
    shapes["audiobook"] = ("authorName", "chapterName")
    rows: list[Raw] = []
    for path in sorted(folder.rglob("StreamingHistory_*.json")):
        kind = path.name.split("_")[1]
        artist_key, track_key = shapes[kind]
        for r in json.loads(path.read_text(encoding="utf-8")):
            end = datetime.strptime(r["endTime"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
            start = (end - timedelta(milliseconds=r["msPlayed"])).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
            artist = None if r[artist_key] == "Unknown Artist" else r[artist_key]
            track = None if r[track_key] == "Unknown Track" else r[track_key]
            rows.append(Raw(start, kind, artist, track, r["msPlayed"], r["msPlayed"] >= MIN_MS))
    return rows


def _extended(folder: Path, zone: str) -> list[Raw]:
    """Extended history: ts is the end in UTC; private-session plays are left out, identical records are one."""
    distinct: dict[str, dict[str, object]] = {}
    for path in sorted(folder.rglob("*.json")):
        for r in json.loads(path.read_text(encoding="utf-8")):
            if not r["incognito_mode"]:
                distinct.setdefault(json.dumps(r, sort_keys=True), r)
    rows: list[Raw] = []
    for r in distinct.values():
        ms = int(r["ms_played"])  # type: ignore[call-overload]
        end = datetime.strptime(str(r["ts"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        start = (end - timedelta(milliseconds=ms)).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        skipped = bool(r["skipped"]) or r["reason_end"] in ("fwdbtn", "backbtn")
        if r["episode_name"] is not None:
            kind, artist, track = "podcast", r["episode_show_name"], r["episode_name"]
        else:
            kind, artist, track = "music", r["master_metadata_album_artist_name"], r["master_metadata_track_name"]
        rows.append(Raw(start, kind, artist, track, ms, ms >= MIN_MS and not skipped))  # type: ignore[arg-type]
    return rows


def _top_artists(rows: list[Raw]) -> list[tuple[str, int, int]]:
    """(name key, ms, plays) of music artists with a play, by time, then plays."""
    ms: Counter[str] = Counter()
    plays: Counter[str] = Counter()
    for r in rows:
        if r.kind == "music" and r.artist is not None:
            ms[artist_key(r.artist) or ""] += r.ms
            plays[artist_key(r.artist) or ""] += r.counts
    return sorted(((a, ms[a], plays[a]) for a in ms if plays[a]), key=lambda t: (-t[1], -t[2]))


def _months(rows: list[Raw]) -> dict[str, tuple[int, int]]:
    months: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        months[f"{r.local:%Y-%m}"][0] += r.ms
        months[f"{r.local:%Y-%m}"][1] += r.counts
    return {m: (v[0], v[1]) for m, v in months.items()}


def _check_against_raw(recap: Recap, rows: list[Raw]) -> None:
    t = recap.totals
    assert (t.events, t.plays, t.ms_played) == (len(rows), sum(r.counts for r in rows), sum(r.ms for r in rows))
    music_plays = [r for r in rows if r.kind == "music" and r.counts and r.artist is not None]
    assert t.artists == len({artist_key(r.artist) for r in music_plays if r.artist})
    assert t.days_listened == len({r.local.date() for r in rows if r.counts})
    expected = _top_artists(rows)[: len(recap.top_artists)]
    assert [(artist_key(a.name), a.ms_played, a.plays) for a in recap.top_artists] == expected
    months = _months(rows)
    assert {m.month: (m.ms_played, m.plays) for m in recap.monthly if m.month in months} == months
    by_day: Counter[date] = Counter()
    for r in rows:
        by_day[r.local.date()] += r.ms
    assert recap.busiest_day is not None
    assert recap.busiest_day.ms_played == max(by_day.values())
    assert by_day[recap.busiest_day.day] == max(by_day.values())


@pytest.mark.samples
def test_recap_of_account_data_matches_the_raw_files(erin_recap: Recap) -> None:
    rows = [r for r in _account(samples_path(*ERIN), ERIN_ZONE) if r.local.year == 2023]
    _check_against_raw(erin_recap, rows)
    assert (erin_recap.rule, erin_recap.zone, erin_recap.period) == ("default-v1", ERIN_ZONE, "2023")
    assert [s.year for s in erin_recap.service_recaps] == [2023]  # Wrapped2023.json was imported
    assert erin_recap.skips.rate is None  # account data does not say what was skipped


@pytest.mark.samples
def test_a_year_that_account_data_covers_in_part_says_so_on_page_cards_and_json(erin_recap: Recap) -> None:
    # account data reaches back about a year: the export's first play, on the listener's clock, opens the span
    rows = _account(samples_path(*ERIN), ERIN_ZONE)
    first = min(r.local for r in rows).date()
    assert first.year == 2023 and first > date(2023, 1, 1)
    c = erin_recap.coverage
    assert c is not None and (c.status, c.covered_first_day, c.covered_last_day) == (
        "partial",
        first,
        date(2023, 12, 31),
    )
    days = (date(2023, 12, 31) - first).days + 1
    assert (c.covered_days, c.period_days) == (days, 365)
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", render_recap_html(erin_recap))))
    assert f"Your Spotify data starts on {first.day} {first:%b %Y}: this recap covers {days} of 365 days." in text
    assert f"{days} of 365 days" in text.split("In numbers")[0]  # in the header, before any figure
    data = recap_to_json(erin_recap)["coverage"]
    assert (data["covered_first_day"], data["covered_days"], data["period_days"]) == (first.isoformat(), days, 365)
    for card in draw_cards(erin_recap):
        if not card.name.endswith("eras"):  # the eras card tells the whole history, and says so
            assert f"{first.day} {first:%b}".upper() in card.texts[0], card.texts[0]


@pytest.mark.samples
def test_recap_of_extended_history_matches_the_raw_files(mica_recap: Recap) -> None:
    rows = [r for r in _extended(samples_path(*MICA), MICA_ZONE) if r.local.year == 2024]
    _check_against_raw(mica_recap, rows)
    assert mica_recap.service_recaps == []
    assert mica_recap.history_first_day is not None and mica_recap.history_first_day.year == 2015


# --- a synthetic history, worked out by hand ---------------------------------------------------------------


def test_synthetic_recap_figures(synthetic_recap: Recap) -> None:
    r = synthetic_recap
    assert (r.totals.events, r.totals.plays, r.totals.ms_played) == (9, 8, 3_270_000)
    assert [(a.name, a.ms_played, a.plays) for a in r.top_artists] == [
        ("Aurora Fields", 800_000, 4),
        ("Basalt", 600_000, 2),
        (TRICKY_ARTIST, 60_000, 1),
    ]  # Cirrus, only skipped, has no play: no list names it
    assert [a.name for a in r.top_artists_by_plays] == ["Aurora Fields", "Basalt", TRICKY_ARTIST]
    assert [s.name for s in r.top_shows] == ["The Show"]
    assert (r.clock.peak_weekday, r.clock.peak_hour, r.zone) == (6, 19, SYNTH_ZONE)  # Sat 9 Mar, 19:00 in Berlin
    assert r.busiest_day is not None and r.busiest_day.day == date(2024, 3, 9)
    assert (r.streak.days, r.streak.start, r.streak.end) == (4, date(2024, 3, 4), date(2024, 3, 7))
    # Aurora Fields was first heard in 2023: not a discovery of 2024; Cirrus was only skipped: not one either
    assert r.discoveries.artist_count == 2
    assert {d.name for d in r.discoveries.artists} == {"Basalt", TRICKY_ARTIST}
    assert (r.period_first_day, r.period_last_day) == (date(2024, 1, 1), date(2024, 12, 31))
    assert (r.history_first_day, r.history_last_day) == (date(2023, 12, 25), date(2024, 3, 14))
    assert r.top_n == DEFAULT_TOP_N
    assert r.measure == "time"
    # the history ends on 14 March: the year is covered from 1 January to then, 74 of its 366 days
    c = r.coverage
    assert c is not None
    assert (c.status, c.partial, c.covered_days, c.period_days) == ("partial", True, 74, 366)
    assert (c.covered_first_day, c.covered_last_day) == (date(2024, 1, 1), date(2024, 3, 14))
    assert [(s.source, s.first_day, s.last_day) for s in c.sources] == [
        ("spotify_extended", date(2023, 12, 25), date(2024, 3, 14))
    ]


def test_top_n_caps_every_list_and_the_rule_is_applied(synthetic_store: Store) -> None:
    r = recap_of(synthetic_store, "me", "2024", "UTC", rule=ANY_RULE, top_n=2)
    assert r.top_n == 2
    assert len(r.top_artists) == len(r.top_tracks) == len(r.discoveries.artists) == 2
    assert r.rule == "any-v1"
    assert r.totals.plays == r.totals.events == 9


def test_an_empty_period_is_a_recap_too(synthetic_store: Store) -> None:
    r = recap_of(synthetic_store, "me", "2020", "UTC")
    assert (r.totals.events, r.top_artists, r.busiest_day, r.streak.days) == (0, [], None, 0)
    assert recap_to_json(r)["totals"]["events"] == 0
    assert r.coverage is not None and (r.coverage.status, r.coverage.covered_days) == ("empty", 0)


# --- JSON ------------------------------------------------------------------------------------------------


def _documented_keys() -> list[str]:
    section = DOC.read_text(encoding="utf-8").split("## Top-level keys", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)


def test_every_top_level_key_is_documented_in_order(synthetic_recap: Recap) -> None:
    data = recap_to_json(synthetic_recap)
    assert list(data) == _documented_keys()


def test_json_is_plain_values_with_iso_dates(synthetic_recap: Recap) -> None:
    data = recap_to_json(synthetic_recap)
    assert json.loads(json.dumps(data)) == data  # nothing but JSON types
    assert (data["format"], data["version"]) == ("tutti-recap", 1)
    first = data["top_artists"][0]
    assert list(first) == ["rank", "name", "artist", "ms_played", "plays", "events", "first_local"]
    assert first == {
        "rank": 1,
        "name": "Aurora Fields",
        "artist": None,
        "ms_played": 800_000,
        "plays": 4,
        "events": 4,
        "first_local": "2024-03-04T19:00:00",
    }
    assert data["busiest_day"]["day"] == "2024-03-09"
    assert data["period_first_day"] == "2024-01-01"
    assert data["generated_utc"].endswith("Z") and datetime.fromisoformat(data["generated_utc"]).tzinfo is not None
    assert len(data["clock"]["cells"]) == 168


# --- the command -----------------------------------------------------------------------------------------


@pytest.fixture
def home_with_history(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    account = samples_path(*ERIN)
    result = CliRunner().invoke(app, ["import", str(account), "--home", str(home), "-p", "erin"])
    assert result.exit_code == 0, result.output
    return home


@pytest.mark.samples
def test_recap_command_writes_the_page_into_the_store_folder(home_with_history: Path) -> None:
    args = ["recap", "2023", "--home", str(home_with_history), "-p", "erin", "--tz", ERIN_ZONE]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    page = home_with_history / "recaps" / "erin-2023.html"
    assert str(page) in result.stdout
    assert "default-v1" in page.read_text(encoding="utf-8")


@pytest.mark.samples
def test_recap_command_json_out_and_open(
    home_with_history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = ["recap", "2023-10-01..2023-12-31", "--home", str(home_with_history), "-p", "erin", "--tz", "UTC"]
    result = CliRunner().invoke(app, [*base, "--json", "--top", "3"])
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    assert (data["period"], data["zone"], data["top_n"], len(data["top_tracks"])) == (
        "2023-10-01..2023-12-31",
        "UTC",
        3,
        3,
    )
    opened: list[str] = []

    def open_url(url: str) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr("webbrowser.open", open_url)
    out = tmp_path / "mine.html"
    result = CliRunner().invoke(app, [*base, "--out", str(out), "--open"])
    assert result.exit_code == 0, result.output
    assert out.is_file() and opened == [out.resolve().as_uri()]


@pytest.mark.samples
def test_recap_command_refuses_bad_input_in_one_line(home_with_history: Path) -> None:
    for args in (["recap", "20x4"], ["recap", "2023", "-p", "nobody"], ["recap", "2023", "--tz", "Mars/Olympus"]):
        result = CliRunner().invoke(app, [*args, "--home", str(home_with_history)])
        assert result.exit_code == 1
        assert result.output.startswith("error:") and "Traceback" not in result.output
