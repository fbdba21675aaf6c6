"""The name key, version 1: vectors written by hand from real names in the sample exports (Latin, CJK, Hangul,
Cyrillic, Hebrew, Arabic), properties that hold for any text, and the keys the store and the pool keep."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.conftest import DATA
from tutti.coop.contributions.reading import read_upload
from tutti.coop.pool.contract import play_identity
from tutti.names import NAME_KEY_VERSION, artist_key, credited_artists, fold, track_base, track_key
from tutti.store import open_store
from tutti.store.ingest import import_paths

TRACKS = [
    # Re-issue labels that leave the recording the same are dropped.
    ("Don't Stop Me Now - Remastered 2011", "don't stop me now"),
    ("(You Gotta Walk) Don't Look Back - 2002 Remaster", "(you gotta walk) don't look back"),
    ("Runaway Train (2022 Remaster)", "runaway train"),
    ("Live Is Life (digitally remastered) - Single Version", "live is life"),
    ("Safe & Sound - from The Hunger Games Soundtrack", "safe & sound"),
    ("叙情詩 - Remastered 2022", "叙情詩"),
    # Featuring credits are credits, not titles.
    ("우산 (feat. 윤하)", "우산"),
    ("Snow On The Beach (feat. Lana Del Rey)", "snow on the beach"),
    (
        "Don’t Call Me Angel (Charlie’s Angels) (with Miley Cyrus & Lana Del Rey)",
        "don't call me angel [charlie's angels]",
    ),
    # Every live recording is one marker, whatever the label says.
    ("The Winner Takes It All - Live", "the winner takes it all [live]"),
    ("5 A.M. - Live At Pompeii 2016", "5 a.m. [live]"),
    ("瞳の住人 (25th L'Anniversary LIVE)", "瞳の住人 [live]"),
    # Other versions stay other versions.
    (
        "Electric Touch (feat. Fall Out Boy) (Taylor’s Version) (From The Vault)",
        "electric touch [taylor's version] [from the vault]",
    ),
    ("Lean On (feat. MØ & DJ Snake) - J Balvin & Farruko Remix", "lean on [j balvin & farruko remix]"),
    ("Мой мармеладный (Speed Up)", "мой мармеладный [speed up]"),
    ("Gangnam Style (강남스타일)", "gangnam style [강남스타일]"),
    # Invisible characters (as found: a direction mark, byte-order marks, word joiners) count for nothing.
    ("\u200eGood Night Good Dream", "good night good dream"),
    ("Tag Am Meer \ufeff[\ufeffOriginal Instrumental\ufeff]\ufeff", "tag am meer [original instrumental]"),
    # Scripts keep what carries meaning: kana voicing marks, Hangul; Cyrillic folds only ё.
    ("さよならメモリー", "さよならメモリー"),
    ("どうしても君が好きだ", "どうしても君が好きだ"),
    ("깊은 밤을 날아서", "깊은 밤을 날아서"),
    ("всё что между нами", "все что между нами"),
    ("Взял вину на себя", "взял вину на себя"),
    ("רעש חום להרגעה", "רעש חום להרגעה"),
    # Vowel points on Arabic (and the hamza on alef) and the tatweel are written or left out freely.
    ("أُحِبُّكَ", "احبك"),
    ("أحبك", "احبك"),
    ("حـــبيبي", "حبيبي"),
    # A title that is only a decoration keeps it.
    ("(Intro)", "(intro)"),
    ("ＤＡＹ ＤＲＥＡＭ", "day dream"),
]

ARTISTS = [
    ("Beyoncé", ("Beyoncé",), "beyonce"),
    ("BEYONCE", ("BEYONCE",), "beyonce"),
    ("Jan Jelinek\u200e", ("Jan Jelinek\u200e",), "jan jelinek"),
    ("MØ", ("MØ",), "mo"),
    ("Ансамбль Весёлые ребята", ("Ансамбль Весёлые ребята",), "ансамбль веселые ребята"),
    ("Инна Маликова & Новые Самоцветы", ("Инна Маликова & Новые Самоцветы",), "инна маликова & новые самоцветы"),
    # A lone ampersand is one act as often as two: kept whole.
    ("Simon & Garfunkel", ("Simon & Garfunkel",), "simon & garfunkel"),
    ("Above & Beyond", ("Above & Beyond",), "above & beyond"),
    # Lists, featuring, versus and slashes between spaces are credits of several artists; the first leads.
    ("Drake, Future", ("Drake", "Future"), "drake"),
    ("Jess Glynne, Macklemore & Dan Caplen", ("Jess Glynne", "Macklemore", "Dan Caplen"), "jess glynne"),
    ("040 Feat. Erica Baxter", ("040", "Erica Baxter"), "040"),
    ("Alexey Beloozerov feat Jama", ("Alexey Beloozerov", "Jama"), "alexey beloozerov"),
    ("2 Player vs. The Herbaliser", ("2 Player", "The Herbaliser"), "2 player"),
    ("ANBB / Alva Noto + Blixa Bargeld", ("ANBB", "Alva Noto + Blixa Bargeld"), "anbb"),
    ("Alpha-Beta feat Катя Павлова", ("Alpha-Beta", "Катя Павлова"), "alpha-beta"),
    # Names that look like lists but are one act.
    ("Tyler, The Creator", ("Tyler, The Creator",), "tyler, the creator"),
    ("Earth, Wind & Fire", ("Earth, Wind & Fire",), "earth, wind & fire"),
    ("10,000 Maniacs", ("10,000 Maniacs",), "10,000 maniacs"),
    ("AC/DC", ("AC/DC",), "ac/dc"),
    # A bracketed aside lists members, not the credit.
    ("A.R.M. (Krukid & M.Anifest)", ("A.R.M.",), "a.r.m."),
]


@pytest.mark.parametrize(("title", "key"), TRACKS)
def test_track_keys(title: str, key: str) -> None:
    assert track_key(title) == key


@pytest.mark.parametrize(("credit", "artists", "key"), ARTISTS)
def test_credits_and_artist_keys(credit: str, artists: tuple[str, ...], key: str) -> None:
    assert credited_artists(credit) == artists
    assert artist_key(credit) == key


def test_missing_and_blank_names_have_no_key() -> None:
    assert track_key(None) is track_key("  ") is artist_key(None) is artist_key("\u200b") is None
    assert credited_artists(None) == credited_artists(" ") == ()


def test_the_base_of_a_key_drops_its_version_markers() -> None:
    studio, live = track_key("The River of Dreams"), track_key("The River of Dreams - Live At The Columbia Convention")
    relabelled = track_key("The River of Dreams - Columbia Records Convention, June 17, 1993")
    assert studio != live != relabelled
    assert studio is not None and live is not None and relabelled is not None
    assert track_base(studio) == track_base(live) == track_base(relabelled) == "the river of dreams"


INVISIBLE = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u200e", "\u2060", "\ufeff", "\u00ad", "\ufe0f"])
SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=SURROGATES), max_size=40)


@given(TEXT)
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(TEXT, st.lists(st.tuples(st.integers(0, 40), INVISIBLE), max_size=5))
def test_invisible_characters_never_change_a_key(text: str, inserts: list[tuple[int, str]]) -> None:
    spoiled = text
    for position, char in inserts:
        spoiled = spoiled[:position] + char + spoiled[position:]
    assert fold(spoiled) == fold(text)
    assert track_key(spoiled) == track_key(text)


@given(st.text(st.characters(whitelist_categories=("Lu", "Ll"), max_codepoint=0x24F), min_size=1, max_size=30))
def test_case_never_changes_a_latin_key(text: str) -> None:
    assert fold(text.upper()) == fold(text.lower()) == fold(text)


@given(st.text(st.characters(whitelist_categories=("Lu", "Ll", "Nd", "Zs")), min_size=1, max_size=30))
def test_remaster_and_featuring_labels_never_change_a_track_key(title: str) -> None:
    assume(track_key(title) is not None)
    assert track_key(title + " - Remastered 2011") == track_key(title) == track_key(title + " (feat. Someone Else)")


def test_the_store_and_the_pool_keep_the_keys(tmp_path: Path) -> None:
    export = DATA / "spotify_extended" / "Streaming_History_Audio_2024_1_v2_offline_seconds.json"
    with open_store(tmp_path) as store:
        import_paths(store, "me", [export])
        stored = store.con.execute("SELECT artist, track, artist_key, track_key FROM plays").fetchall()
        meta = dict(store.con.execute("SELECT key, value FROM store_meta").fetchall())
    assert stored and all(ak == artist_key(a) and tk == track_key(t) for a, t, ak, tk in stored)
    assert meta["name_key_version"] == str(NAME_KEY_VERSION)
    pooled = play_identity(read_upload([export]).table).to_pylist()
    assert pooled and all(
        r["artist_key"] == artist_key(r["artist"]) and r["track_key"] == track_key(r["track"]) for r in pooled
    )


def test_a_store_keyed_by_an_older_name_key_is_rekeyed_when_opened(tmp_path: Path) -> None:
    export = DATA / "spotify_extended" / "Streaming_History_Audio_2024_1_v2_offline_seconds.json"
    with open_store(tmp_path) as store:
        import_paths(store, "me", [export])
        store.con.execute("UPDATE plays SET artist_key = 'stale', track_key = NULL").fetchall()
        store.con.execute("UPDATE store_meta SET value = '0' WHERE key = 'name_key_version'").fetchall()
    with open_store(tmp_path) as store:
        rows = store.con.execute("SELECT artist, track, artist_key, track_key FROM plays").fetchall()
    assert rows and all(ak == artist_key(a) and tk == track_key(t) for a, t, ak, tk in rows)
