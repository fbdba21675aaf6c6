"""The sentences that say what a recap stands on, the same on the page, on the cards and in the command's output.

``span_line`` is the header's line of data ("data 22 Aug – 31 Dec 2024 · 132 of 366 days"); ``partial_note`` the
warning for a period the data covers only in part ("Your Spotify data starts on 22 Aug 2024: this recap covers
132 of 366 days."); ``nothing_to_tell`` the plain statement for an empty or near-empty period.
"""

from __future__ import annotations

from datetime import date

from tutti.insights.coverage import MIN_PLAYS, Coverage
from tutti.insights.recap import Recap

SERVICES = {
    "spotify_extended": "Spotify",
    "spotify_account": "Spotify",
    "lastfm": "Last.fm",
    "listenbrainz": "ListenBrainz",
    "apple_music": "Apple Music",
    "youtube_music": "YouTube Music",
}


def day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def days_range(first: date, last: date) -> str:
    if first == last:
        return day(first)
    if first.year == last.year:
        return f"{first.day} {first:%b} – {day(last)}"
    return f"{day(first)} – {day(last)}"


def _services(coverage: Coverage, first: bool) -> str:
    """The services whose data starts (``first``) or ends the history, "Spotify and Last.fm"."""
    edge = coverage.data_first_day if first else coverage.data_last_day
    names = sorted({SERVICES.get(s.source, s.source) for s in coverage.sources if edge in (s.first_day, s.last_day)})
    return " and ".join(names) if names else "your"


def span_line(recap: Recap) -> str | None:
    """The data the recap stands on: its days, and for a bounded period how many of the period's days."""
    c = recap.coverage
    if c is None or c.covered_first_day is None or c.covered_last_day is None:
        return None
    line = f"data {days_range(c.covered_first_day, c.covered_last_day)}"
    if c.period_days is not None:
        line += f" · {c.covered_days:,} of {c.period_days:,} days"
    return line


def partial_note(recap: Recap) -> str | None:
    """A sentence for a period the data covers only in part; None when it covers all of it."""
    c = recap.coverage
    if c is None or not c.partial or c.data_first_day is None or c.data_last_day is None:
        return None
    period_first, period_last = recap.period_first_day, recap.period_last_day
    starts_late = period_first is not None and c.data_first_day > period_first
    ends_early = period_last is not None and c.data_last_day < period_last
    covers = f"this recap covers {c.covered_days:,} of {c.period_days:,} days"
    if starts_late and ends_early:
        return f"Your data runs from {day(c.data_first_day)} to {day(c.data_last_day)}: {covers}."
    if starts_late:
        return f"Your {_services(c, True)} data starts on {day(c.data_first_day)}: {covers}."
    if ends_early:
        return f"Your {_services(c, False)} data ends on {day(c.data_last_day)}: {covers}."
    return f"Your data does not reach this period: {covers}."


def nothing_to_tell(recap: Recap) -> str | None:
    """A plain sentence for an empty or near-empty period; None when there is enough to tell."""
    c = recap.coverage
    if c is None or c.tellable:
        return None
    events = recap.totals.events
    where = f"in {recap.period}" if recap.period != "all" else "in this history"
    if c.status == "thin":
        plays = f"{c.plays:,} {'play' if c.plays == 1 else 'plays'}"
        return f"Only {plays} {where}: too few to tell (a recap needs at least {MIN_PLAYS})."
    if events:
        return (
            f"No plays {where}: {events:,} listening {'event' if events == 1 else 'events'}, none of them a play "
            f"by rule {recap.rule} ({recap.rule_description})."
        )
    if c.data_first_day and c.data_last_day:
        runs = f"from {day(c.data_first_day)} to {day(c.data_last_day)}"
        return f"No listening stored {where}: your history runs {runs}."
    return f"No listening stored {where}."
