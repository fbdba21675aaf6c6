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
    Definition(
        "play",
        "A listening event that the play rule counts: with the default rule (default-v1), at least 30 seconds"
        " played and not skipped; a scrobble always counts, since it was only sent for a track heard long "
        "enough. Every count of artists, tracks, albums and discoveries, in recaps and in `tutti summary`, is"
        " among plays: an artist only ever skipped is not one you listened to, and a list never names an "
        "artist with no play.",
    ),
    Definition(
        "time played",
        "What the exports measured, summed over every event, skips included. A scrobble has no time: a recap "
        "counts it at the median time of the same track's plays of at least 30 seconds in your other sources,"
        " else 3 min 30 s, and says how much of its time is so estimated. `tutti summary` shows measured time"
        " only. A recap ranks by time when at least half of its events are timed, else by plays, and says "
        "which; its page, JSON and cards use the same measure.",
    ),
    Definition(
        "new artist, new track",
        "One whose first play in your stored history falls in the period (a skip is not a discovery). History"
        " begins with your earliest import, so everything near its start looks new.",
    ),
    Definition(
        "coverage",
        "The days of a recap's period that your stored history spans. A recap states them in its header and "
        'on its cards; a period your data covers in part says so ("Your Spotify data starts on 22 Aug 2024: '
        'this recap covers 132 of 366 days"), and per-day figures count the covered days. A period with fewer'
        " than 5 plays says so instead of telling a story: `tutti recap` exits 1 and `tutti cards` writes no "
        "card.",
    ),
)
