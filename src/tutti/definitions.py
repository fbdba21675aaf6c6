"""What Tutti's words mean where its numbers use them, written once.

`tutti formats` prints these sentences and the README holds the same ones (``tests/test_docs.py`` checks it), so
a listener reads one definition wherever they look. Each states what the code does: the name keys of
``tutti.names``, the placeholders of ``importers.spotify_account``, the start time that ``insights.scope``
places a play at.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Definition:
    term: str
    meaning: str


DEFINITIONS: tuple[Definition, ...] = (
    Definition(
        "artist",
        "Spellings that differ only in case, accents on Latin or Greek letters, invisible characters, full-width "
        'forms, curly quotes, dashes or spacing are one artist ("Beyoncé" and "BEYONCE"). A credit of several '
        'artists counts for the first one: it is split at "feat.", "ft.", "featuring", "vs.", " / " and ";", and '
        'at commas and "&" when it reads as a list, so "A feat. B", "A, B & C" and "A" are all A; "Simon & '
        'Garfunkel", "Above & Beyond" and "Tyler, The Creator" stay one act each. This is the artist\'s name key '
        "(version 1), stored with every play.",
    ),
    Definition(
        "track",
        'A title by one artist, by the title\'s name key: a featuring credit ("(feat. X)") and re-issue labels '
        '("Remastered", "Radio Edit", "Mono", "Deluxe") are left out, a live recording however labelled is one '
        '"live" version, and any other version ("Acoustic", "X Remix", "(Taylor\'s Version)") is a track of its '
        "own.",
    ),
    Definition(
        "Unknown Artist, Unknown Track",
        'Spotify\'s account data names plays of local files "Unknown Artist" and "Unknown Track". These plays are '
        "kept and count in listening time, plays, hours and streaks, but without those names: a placeholder is "
        'never an artist or a track. The import report counts them ("note: ... plays of local files").',
    ),
    Definition(
        "hour and day of a play",
        "A play belongs to the hour and the day, on the listener's clock (see `tutti timezone`), in which it "
        "started, also when it ran past the hour or past midnight; days of listening, streaks and the listening "
        "clock count starts. Spotify records when a play ended: its start is the end minus the time played.",
    ),
)
