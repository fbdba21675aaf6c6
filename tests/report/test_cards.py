from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from tests.conftest import DATA, samples_path
from tutti.cli import app
from tutti.errors import UsageError
from tutti.insights.period import Period
from tutti.insights.recap import Recap, build_recap
from tutti.insights.scope import open_scope
from tutti.insights.zones import ZonePlan, zone_plan_for
from tutti.model import Play, PlayBatch, Source, TimePrecision
from tutti.report.canvas import wrap
from tutti.report.cards import SIZES, Card, draw_cards, missing_glyphs, render_cards, write_cards
from tutti.report.cardtext import period_name
from tutti.report.fonts import REPLACEMENT, SHIPPED, FontSet, default_fonts
from tutti.store import Store, open_store
from tutti.store.ingest import import_paths, insert_items

SISTER, NIGHT, OLAFUR, OLD = "Сестра Луна", "夜の光", "Ólafur Ørn", "Radiohead"
TRACKS = {SISTER: "Ночной поезд", NIGHT: "光の中で", OLAFUR: "Ljósið", OLD: "Creep"}
# Plays per month: Radiohead fills 2023, the three newcomers fill 2024 (so 2024 has discoveries and a new era).
PER_MONTH = {2023: {OLD: 20}, 2024: {SISTER: 15, NIGHT: 10, OLAFUR: 5}}


def _synthetic_plays() -> list[Play]:
    plays: list[Play] = []
    for year, artists in PER_MONTH.items():
        for month in range(1, 13):
            for artist, count in artists.items():
                for i in range(count):
                    start = datetime(year, month, 1 + i % 28, 8 + (i * 5) % 15, tzinfo=UTC)
                    plays.append(
                        Play(
                            source=Source.SPOTIFY_EXTENDED,
                            source_file="synthetic.json",
                            record_index=len(plays),
                            start_utc=start,
                            end_utc=start + timedelta(minutes=4),
                            ms_played=240_000,
                            time_precision=TimePrecision.SECOND,
                            track=TRACKS[artist],
                            artist=artist,
                            skipped=i % 7 == 0,
                            shuffle=i % 2 == 0,
                        )
                    )
    return plays


def _recap(store: Store, period: str, zone: str = "Europe/Berlin") -> Recap:
    scope = open_scope(store, "me", Period.parse(period), zones=ZonePlan.single(zone))
    try:
        return build_recap(scope)
    finally:
        scope.close()


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    with open_store(memory=True) as opened:
        with opened.transaction():
            opened.ensure_profile("me")
            insert_items(opened, "me", "synthetic", [PlayBatch.from_plays("synthetic.json", _synthetic_plays())])
        yield opened


@pytest.fixture(scope="module")
def recap(store: Store) -> Recap:
    return _recap(store, "2024")


@pytest.fixture(scope="module")
def cards(recap: Recap) -> dict[str, Card]:
    return {card.name.split("-", 1)[1]: card for card in draw_cards(recap)}


def _needs_cjk_font() -> None:
    if missing_glyphs(NIGHT):
        pytest.skip("no font on this system covers CJK (install e.g. fonts-noto-cjk); the shipped font has none")


# Words a listener should not meet on a card they post: the rule's version, export vocabulary, placeholders.
JARGON = ("default-v1", "rule", "not recorded", "events", "—", "spotify:", "null", "None")
FILE_NAME = re.compile(
    r"tutti-(?P<profile>[\w.]+)-(?P<period>[\w.]+)-(?P<size>story|square)-(?P<n>\d\d)-(?P<card>[a-z-]+)\.png"
)


def test_cards_come_in_story_and_square_sizes_named_by_profile_and_period(recap: Recap, tmp_path: Path) -> None:
    paths = render_cards(recap, tmp_path / "cards")
    assert len(set(paths)) == len(paths) == 2 * len(draw_cards(recap))
    sizes = {"story": (1080, 1920), "square": (1080, 1080)}
    for path in paths:
        match = FILE_NAME.fullmatch(path.name)
        assert match and path.parent == tmp_path / "cards", path.name
        assert (match["profile"], match["period"]) == ("me", "2024")
        with Image.open(path) as image:
            assert (image.format, image.size) == ("PNG", sizes[match["size"]])
    # Two people's cards of one period, in one folder, never overwrite each other.
    theirs = render_cards(replace(recap, profile="alex"), tmp_path / "cards")
    assert not set(paths) & set(theirs) and all(p.is_file() for p in [*paths, *theirs])


def test_each_card_names_the_period_and_the_maker_in_plain_words(recap: Recap) -> None:
    for size in SIZES:
        cards = {card.name.split("-", 1)[1]: card for card in draw_cards(recap, size=size)}
        assert set(cards) == {"minutes", "top-artist", "top-tracks", "clock", "discoveries", "eras", "habits"}
        for card in cards.values():
            text = "\n".join(card.texts)
            assert "Tutti" in card.texts and "2024 recap" in text
            assert "wrapped" not in text.lower()
            assert not [word for word in JARGON if word in text], (card.name, text)


def test_month_bars_are_labelled(recap: Recap, cards: dict[str, Card]) -> None:
    texts = cards["minutes"].texts
    assert len(recap.monthly) == 12
    assert texts.count("J") == 3 and texts.count("M") == 2 and "D" in texts  # Jan Jun Jul, Mar May, Dec
    busiest = max(recap.monthly, key=lambda m: m.ms_played)
    assert f"{round(busiest.ms_played / 60_000):,} min" in texts


def test_only_cards_the_data_supports(store: Store, recap: Recap) -> None:
    names = {card.name.split("-", 1)[1] for card in draw_cards(replace(recap, eras=recap.eras[:1]))}
    assert "eras" not in names  # one era alone would be a mostly empty card
    all_time = {card.name.split("-", 1)[1] for card in draw_cards(_recap(store, "all"))}
    assert "discoveries" not in all_time  # everything is new in a period that starts the history
    assert "eras" in all_time and "top-artist" in all_time
    first_year = {card.name.split("-", 1)[1] for card in draw_cards(_recap(store, "2023"))}
    assert "discoveries" not in first_year
    # Habits show only what the history recorded: without skips, shuffle and devices, no dashes stand in.
    bare = replace(recap, skips=replace(recap.skips, rate=None, shuffle_share=None, offline_share=None, platforms=[]))
    habits = next(card for card in draw_cards(bare) if card.name.endswith("habits"))
    assert not {"skipped", "on shuffle", "offline"} & set(habits.texts) and "—" not in habits.texts


def test_the_recap_figures_are_what_the_cards_say(recap: Recap, cards: dict[str, Card]) -> None:
    assert recap.top_artists[0].name == SISTER
    assert SISTER in cards["top-artist"].texts
    assert {NIGHT, OLAFUR} <= set(cards["top-artist"].texts)
    assert set(TRACKS[a] for a in (SISTER, NIGHT, OLAFUR)) <= set(cards["top-tracks"].texts)
    assert f"{round(recap.totals.minutes):,}" in cards["minutes"].texts
    assert f"{recap.totals.plays:,}" in cards["minutes"].texts
    assert {SISTER, NIGHT, OLAFUR} <= set(cards["discoveries"].texts)
    assert f"{recap.discoveries.artist_count:,}" in cards["discoveries"].texts
    assert [era.name for era in recap.eras] == [t for t in cards["eras"].texts if t in {e.name for e in recap.eras}]
    assert any(OLD in era.name for era in recap.eras) and any(SISTER in era.name for era in recap.eras)


def test_latin_and_cyrillic_names_are_covered_by_the_shipped_font() -> None:
    shipped = FontSet(dirs=[])
    for name in (SISTER, OLAFUR, "Björk", "Sigur Rós", "Motörhead", "Ελένη"):
        assert missing_glyphs(name, fonts=shipped) == set()
        assert [run.face.path for run in shipped.runs(name)] == [SHIPPED[False]]  # type: ignore[union-attr]


def test_non_latin_names_draw_without_missing_glyphs_when_a_cjk_font_is_installed(cards: dict[str, Card]) -> None:
    _needs_cjk_font()
    for name in (SISTER, NIGHT, OLAFUR, TRACKS[NIGHT]):
        assert missing_glyphs(name) == set()
    assert all(card.missing == set() for card in cards.values())
    runs = default_fonts().runs(f"{SISTER} {NIGHT}")
    assert runs[0].face is not None and runs[0].face.path == SHIPPED[False]
    cjk = [run for run in runs if NIGHT in run.text]
    assert cjk and cjk[0].face is not None and cjk[0].face.path not in SHIPPED.values()


def test_characters_no_font_has_are_drawn_as_a_visible_mark_and_reported(recap: Recap) -> None:
    bare = FontSet(dirs=[])  # only the shipped font: no CJK
    assert missing_glyphs(f"{NIGHT} {OLAFUR}", fonts=bare) == set(NIGHT)
    assert [run.text for run in bare.runs(f"{OLAFUR} {NIGHT}")] == [f"{OLAFUR} ", REPLACEMENT * 3]
    tracks = next(card for card in draw_cards(recap, bare) if card.name.endswith("top-tracks"))
    assert tracks.missing >= set(TRACKS[NIGHT])
    image = Image.new("L", (200, 100))
    bare.draw(ImageDraw.Draw(image), 10, 80, NIGHT, 60, 255, bold=False)
    assert image.getbbox() is not None  # something visible, not an empty box or nothing


def test_a_period_without_plays_draws_no_card(store: Store) -> None:
    assert draw_cards(_recap(store, "2030")) == []
    assert draw_cards(_recap(store, "2030"), size="square") == []


def test_a_period_the_data_covers_in_part_says_which_days_on_every_card(cards: dict[str, Card]) -> None:
    # the history ends on 15 December 2024: every card of "2024" names the days it stands on (the eras card
    # shows the whole history, and says so)
    for name, card in cards.items():
        assert ("1 JAN – 15 DEC 2024" if name != "eras" else "YOUR HISTORY") in card.texts[0], card.texts[0]
    assert "of 350 days" in cards["minutes"].texts  # days with music, of the days the data covers


@pytest.mark.parametrize(
    ("label", "first", "last", "name"),
    [
        ("2024", date(2024, 1, 1), date(2024, 12, 31), "2024"),
        ("2024-03", date(2024, 3, 1), date(2024, 3, 31), "MAR 2024"),
        ("2024-Q2", date(2024, 4, 1), date(2024, 6, 30), "Q2 2024"),
        ("2024-summer", date(2024, 6, 1), date(2024, 8, 31), "SUMMER 2024"),
        ("2024-01-01..2024-06-30", date(2024, 1, 1), date(2024, 6, 30), "1 JAN – 30 JUN 2024"),
        ("all", date(2012, 5, 1), date(2024, 2, 1), "ALL TIME  ·  2012–2024"),
        ("all", None, None, "ALL TIME"),
    ],
)
def test_period_names(label: str, first: date | None, last: date | None, name: str) -> None:
    assert period_name(label, first, last) == name


def test_wrap_breaks_text_without_spaces_between_characters() -> None:
    def measure(text: str) -> float:
        return float(len(text))

    assert wrap("光の中で光の中で", measure, 3) == ["光の中", "で光の", "中で"]
    assert wrap("Ólafur Ørn and friends", measure, 12) == ["Ólafur Ørn", "and friends"]


def test_write_cards_says_when_the_folder_cannot_be_written(
    recap: Recap, cards: dict[str, Card], tmp_path: Path
) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    with pytest.raises(UsageError, match="cannot write the cards"):
        write_cards(list(cards.values()), recap, "story", blocker / "cards")


@pytest.mark.samples
@pytest.mark.parametrize(
    ("folder", "period"),
    [
        (("spotify-extended", "mica-92"), "2024"),
        (("spotify-extended", "efrrowini"), "all"),
        (("spotify-account", "hobbies-w-erin"), "2023"),
        (("lastfm", "pingw33n"), "2015"),
        (("apple-music", "vietvudanh"), "all"),
    ],
)
def test_every_card_of_a_real_export_at_both_sizes(tmp_path: Path, folder: tuple[str, ...], period: str) -> None:
    with open_store(tmp_path / "home") as opened:
        import_paths(opened, folder[1], [samples_path(*folder)])
        scope = open_scope(opened, folder[1], Period.parse(period), zones=zone_plan_for(opened, folder[1]))
        try:
            recap = build_recap(scope)
        finally:
            scope.close()
    paths = render_cards(recap, tmp_path / "cards")
    for size, (width, height) in SIZES.items():
        cards = draw_cards(recap, size=size)
        assert len(cards) >= 3 and all(card.image.size == (width, height) for card in cards)
        top = next((card for card in cards if card.name.endswith("top-artist")), None)
        if recap.top_artists and recap.top_artists[0].plays > 0:
            assert top and recap.top_artists[0].name in " ".join(top.texts)
        else:  # no headline names an artist with no play (efrrowini: 51 events, 5 plays, none by the top artist)
            assert top is None
        minutes = next(card for card in cards if card.name.endswith("minutes"))
        assert f"{recap.totals.plays:,}" in minutes.texts or f"{round(recap.totals.minutes):,}" in minutes.texts
        assert all(card.missing == set() for card in cards) or missing_glyphs(NIGHT)
        for card in cards:
            text = "\n".join(card.texts)
            assert not [word for word in JARGON if word in text], (card.name, text)
        names = [FILE_NAME.fullmatch(p.name) for p in paths if f"-{size}-" in p.name]
        assert [m["card"] for m in names if m] == [card.name.split("-", 1)[1] for card in cards]
        assert all(m and m["profile"] == folder[1].replace("-", "_") for m in names)


def test_cli_cards_prints_the_files_it_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTTI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TUTTI_PROFILE", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(DATA / "spotify_extended")]).exit_code == 0
    result = runner.invoke(app, ["cards", "all", "--out", str(tmp_path / "out"), "--tz", "Europe/Berlin"])
    assert result.exit_code == 0, result.stderr
    written = [Path(line) for line in result.stdout.splitlines()]
    assert len(written) >= 8 and all(path.is_file() and path.parent == tmp_path / "out" for path in written)
    assert {"story", "square"} == {m["size"] for m in (FILE_NAME.fullmatch(p.name) for p in written) if m}
    result = runner.invoke(app, ["cards", "all", "--out", str(tmp_path / "sq"), "--size", "square"])
    assert result.exit_code == 0 and all("-square-" in line for line in result.stdout.splitlines())
    result = runner.invoke(app, ["cards", "all", "--out", str(tmp_path / "sq"), "--size", "poster"])
    assert result.exit_code == 1 and "unknown card size 'poster'" in result.stderr
    result = runner.invoke(app, ["cards", "2024", "--out", str(tmp_path / "out"), "--rule", "nonsense"])
    assert result.exit_code == 1 and "unknown play rule" in result.stderr


def test_recap_cards_keep_working_after_a_replace(recap: Recap) -> None:
    """Cards read only the recap: an edited recap (a renamed top artist) shows the new name."""
    renamed = replace(recap, top_artists=[replace(recap.top_artists[0], name="Ёлка & 王菲")])
    card = next(card for card in draw_cards(renamed) if card.name.endswith("top-artist"))
    assert "Ёлка & 王菲" in card.texts
