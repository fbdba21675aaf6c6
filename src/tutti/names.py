"""The name key: when two spellings name the same artist or the same track. Versioned; every layer uses this one.

Exports spell one thing many ways: "Beyoncé" and "BEYONCE", a title with an invisible character appended, "Song -
Remastered 2011" and "Song", "Song (feat. X)" and "Song", "A feat. B" and "A". ``artist_key`` and ``track_key``
fold them to one key; the local store and the pool keep both keys beside the names (``artist_key``/``track_key``
columns, written when plays are written), so that insights, de-duplication and copy detection group and match by
the same rule and no engine re-implements it. The key is for comparing only; pages show the most common spelling.

``fold`` (NAME_KEY_VERSION 1), in this order:

1. Unicode NFKC (full-width and compatibility forms become plain ones: "ＡＢＣ" is "ABC", "…" is "...").
2. Invisible characters removed: format characters (zero-width space, joiners, direction marks, the byte-order
   mark, soft hyphen, word joiner) and variation selectors.
3. Case folded (``str.casefold``: "ß" is "ss").
4. Accents folded on Latin and Greek letters ("é" is "e", "ά" is "α"), plus the stroked Latin letters that have no
   decomposition ("ł", "ø", "đ", "ħ", "ı"); vowel points on Arabic and Hebrew letters (and so the hamza on an
   alef: "أ" is "ا"), and the Arabic tatweel (a stretching stroke), which those scripts write or leave out freely.
   Other scripts keep their marks, which carry meaning there (Japanese dakuten: "が" is not "か"; Devanagari and
   Thai vowel signs; Hangul is untouched); Cyrillic folds only "ё" to "е", which Russian text writes either way.
5. Typographic punctuation unified (curly quotes and primes to ' and ", the many dashes to "-"), white space
   collapsed to single spaces and trimmed.

**Tracks** (``track_key``): trailing decorations, in round, square or curly brackets or after " - ", are read from
the end one by one. A featuring credit ("(feat. X)", "(ft. X)", "(with X)") is dropped (X is a credited artist
of the play, not part of the title); so are re-issue labels that leave the recording the same ("Remastered",
"2011 Remaster", "Single Version", "Mono", "Radio Edit", "Bonus Track", "Deluxe", "Original Mix", "From the
motion picture ..."); a live recording, however labelled ("(Live)", "- Live at Wembley 2004", "(25th Anniversary
LIVE)"), becomes the one marker "[live]"; any other decoration ("(Taylor's Version)", "- Acoustic", "- X Remix")
names another version and stays, as "[decoration]". So "Song - Live at X" and "Song (Live)" share a key, distinct
from "Song". The key without its markers (``track_base``) is what copies of one listening event share: Spotify's
own files label one recording "- Live At The Columbia Records Convention" in one file and "- Columbia Records
Convention" in another, so de-duplication, where time and duration already say "the same event", compares bases.

**Artists** (``credited_artists``, ``artist_key``): a credit names one or more artists. It is split at featuring
markers ("feat.", "ft.", "featuring"), at "vs.", at " / " and ";", and, when it has the shape of a list, at
commas and ampersands: "A, B & C" and Apple's "A, B, C" are three artists, "A, B" two. A lone "&" or "and" is
not split ("Simon & Garfunkel", "Above & Beyond" are one act each), nor is a comma followed by "The"
("Tyler, The Creator"), nor a few well-known names in ``UNSPLIT_CREDITS``. The artist key is the key of the
first credited artist: "A feat. B", "A, B & C" and "A" all group under A.

Changing any of this changes keys: bump ``NAME_KEY_VERSION``, and the local store and the pool recompute their
keys (their migrations compare the stored version with this one).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

NAME_KEY_VERSION = 1

_STROKED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ŧ": "t", "ƀ": "b"})
_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
    }
)
_SPACES = re.compile(r"\s+")


def _invisible(char: str) -> bool:
    # Format characters (Cf: zero-width space and joiners, direction marks, BOM, soft hyphen, word joiner),
    # variation selectors and the combining grapheme joiner change nothing a reader sees.
    code = ord(char)
    return (
        unicodedata.category(char) == "Cf" or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or code == 0x034F
    )


_TATWEEL = "\u0640"
_FOLDED_SCRIPTS = ("LATIN", "GREEK", "ARABIC", "HEBREW")


def _folds_accents(base: str) -> bool:
    return unicodedata.name(base, "").startswith(_FOLDED_SCRIPTS)


def _fold_accents(text: str) -> str:
    out: list[str] = []
    base = ""
    for char in unicodedata.normalize("NFD", text):
        if char == _TATWEEL:
            continue
        if unicodedata.combining(char):
            if base and _folds_accents(base):
                continue
            if base in ("е", "Е") and char == "\u0308":  # ё -> е
                continue
        else:
            base = char
        out.append(char)
    return unicodedata.normalize("NFC", "".join(out)).translate(_STROKED)


@lru_cache(maxsize=65_536)
def fold(text: str) -> str:
    """The text as the name key compares it (steps 1-5 of the module docstring)."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if not _invisible(c))
    text = _fold_accents(text.casefold())
    text = text.translate(_PUNCTUATION)
    return _SPACES.sub(" ", text).strip()


# --- tracks -------------------------------------------------------------------------------------------------

_TRAILING_GROUP = re.compile(r"\s*[\(\[\{]([^\(\)\[\]\{\}]*)[\)\]\}]\s*$")
_DASH = " - "
_FEATURING = re.compile(r"^(feat\.?|ft\.?|featuring|with)\s")
_SAME_RECORDING = re.compile(
    r"""^(
        (\d{4}\s)?(digital(ly)?\s)?re-?master(ed)?(\s(version|edition|\d{4}))*(\s\d{4})?
      | (single|album|lp|original|stereo|mono|radio)\s(version|edit|mix)
      | mono | stereo | radio\sedit | original\smix | explicit(\sversion)? | clean(\sversion)?
      | bonus(\strack)? | deluxe(\sedition|\sversion)?
      | from\s.*(soundtrack|motion\spicture|film|movie|series|musical).*
    )$""",
    re.VERBOSE,
)
_LIVE = re.compile(r"\blive\b")


def _decoration(text: str) -> str | None:
    """What a folded trailing decoration contributes to the key: None to drop it, else its marker."""
    if not text:
        return None
    if _FEATURING.match(text) or _SAME_RECORDING.match(text):
        return None
    if _LIVE.search(text):
        return "live"
    return text


@lru_cache(maxsize=65_536)
def track_key(title: str | None) -> str | None:
    """The key of a track title (see the module docstring); None for a missing or blank title."""
    if title is None:
        return None
    text = fold(title)
    if not text:
        return None
    kept: list[str] = []
    base = text
    while True:
        group = _TRAILING_GROUP.search(base)
        if group is not None and group.start() > 0:
            decoration, base = group.group(1).strip(), base[: group.start()].rstrip()
        elif base.rfind(_DASH) > 0:
            base, _, decoration = base.rpartition(_DASH)
        else:
            break
        marker = _decoration(decoration.strip())
        if marker is not None and marker not in kept:
            kept.append(marker)
    if not base:
        return text
    return base + "".join(f" [{marker}]" for marker in reversed(kept))


def track_base(key: str) -> str:
    """A track key without its version markers: what two copies of one listening event always share, however
    each service labels the version ("- Live At X" in one file, "- X" in the other)."""
    return key.split(" [", 1)[0]


def track_base_sql(column: str) -> str:
    """``track_base`` as a SQL expression over a ``track_key`` column (DuckDB, PostgreSQL and Spark SQL)."""
    return f"split_part({column}, ' [', 1)"


# --- artists ------------------------------------------------------------------------------------------------

# Acts whose own name has the shape of a list; compared folded.
UNSPLIT_CREDITS: frozenset[str] = frozenset(
    {
        "earth, wind & fire",
        "crosby, stills, nash & young",
        "crosby, stills & nash",
        "emerson, lake & palmer",
        "blood, sweat & tears",
        "peter, paul and mary",
        "peter, paul & mary",
        "now, now",
        "me, myself and i",
        "up, bustle & out",
        "sly & the family stone",
    }
)
_FEATURING_SPLIT = re.compile(r"\s+(?:feat\.?|ft\.?|featuring|vs\.?|versus)\s+|\s+/\s+|\s*;\s*", re.IGNORECASE)
_LIST_SPLIT = re.compile(r"\s*,\s+|\s+&\s+")


def _split_list(part: str) -> list[str]:
    folded = fold(part)
    if folded in UNSPLIT_CREDITS:
        return [part]
    commas = part.count(", ")
    if commas == 0:
        return [part]  # "A & B" alone is one act as often as two: kept whole
    pieces = [p for p in _LIST_SPLIT.split(part) if p]
    if commas == 1 and " & " not in part and fold(pieces[-1]).startswith("the "):
        return [part]  # "Tyler, The Creator"
    return pieces


@lru_cache(maxsize=65_536)
def credited_artists(credit: str | None) -> tuple[str, ...]:
    """The artists a credit names, in order, as written (trimmed); empty for a missing or blank credit.

    A trailing bracketed aside ("A.R.M. (Krukid & M.Anifest)") lists members, not the credit: it is left out.
    """
    if credit is None or not credit.strip():
        return ()
    text = credit.strip()
    while (group := _TRAILING_GROUP.search(text)) is not None and group.start() > 0:
        text = text[: group.start()].rstrip()
    artists: list[str] = []
    for part in _FEATURING_SPLIT.split(text):
        for name in _split_list(part.strip()):
            name = name.strip()
            if name and fold(name) and name not in artists:
                artists.append(name)
    return tuple(artists) or (credit.strip(),)


@lru_cache(maxsize=65_536)
def artist_key(credit: str | None) -> str | None:
    """The key of a credit's first artist (see the module docstring); None for a missing or blank credit."""
    artists = credited_artists(credit)
    if not artists:
        return None
    return fold(artists[0]) or None


# --- columns ------------------------------------------------------------------------------------------------

KEY_COLUMNS: tuple[str, str] = ("artist_key", "track_key")


def _keyed(column: pa.ChunkedArray | pa.Array, key: Callable[[str | None], str | None]) -> pa.Array:
    # Names repeat: key each distinct name once and spread the keys with a take.
    distinct = pc.unique(column)
    keys = pa.array([key(name) for name in distinct.to_pylist()], pa.string())
    return pc.take(keys, pc.index_in(column, distinct))


def key_columns(table: pa.Table) -> tuple[pa.Array, pa.Array]:
    """``artist_key`` and ``track_key`` for every row of a table with ``artist`` and ``track`` columns."""
    return _keyed(table.column("artist"), artist_key), _keyed(table.column("track"), track_key)


__all__ = [
    "KEY_COLUMNS",
    "NAME_KEY_VERSION",
    "UNSPLIT_CREDITS",
    "artist_key",
    "credited_artists",
    "fold",
    "key_columns",
    "track_base",
    "track_base_sql",
    "track_key",
]
