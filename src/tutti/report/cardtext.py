"""Words and numbers as the share cards print them: periods, days, months, durations, shares."""

from __future__ import annotations

import re
from datetime import date

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WEEKDAYS = ["Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays"]


def period_name(label: str, first_day: date | None, last_day: date | None) -> str:
    """The period as a card names it: '2024', 'MARCH 2024', 'Q2 2024', 'SUMMER 2024', 'ALL TIME  ·  2012–2024'
    (for 'all', the days are the history's first and last) or the range of days."""
    if label == "all":
        if first_day and last_day and first_day.year != last_day.year:
            return f"ALL TIME  ·  {first_day.year}–{last_day.year}"
        return "ALL TIME"
    if m := re.fullmatch(r"(\d{4})-(\d{2})", label):
        return f"{MONTHS[int(m[2]) - 1].upper()} {m[1]}"
    if m := re.fullmatch(r"(\d{4})-(Q\d|[a-z]+)", label):
        return f"{m[2].upper()} {m[1]}"
    if ".." in label and first_day and last_day:
        return days(first_day, last_day).upper()
    return label.upper()


def day(day: date, year: bool = True) -> str:
    return f"{day.day} {MONTHS[day.month - 1]}" + (f" {day.year}" if year else "")


def days(first: date, last: date) -> str:
    """'22 Aug – 26 Sep 2024', or with both years when they differ."""
    return f"{day(first, first.year != last.year)} – {day(last)}" if first != last else day(first)


def month(month: str) -> str:
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


def minutes(ms: int) -> str:
    return f"{round(ms / 60_000):,}"


def duration(ms: int) -> str:
    hours, minutes = divmod(round(ms / 60_000), 60)
    if hours >= 10:
        return f"{round(ms / 3_600_000):,} hours"
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes} min"


def amount(ms: int, plays: int, joiner: str = "") -> str:
    """'221 min  ·  51 plays' (``joiner`` names the unit of time), the time as a duration, or only the plays
    when no time is known (scrobbles)."""
    if not ms:
        return plural(plays, "play")
    return f"{minutes(ms)}{joiner}{plural(plays, 'play')}" if joiner else duration(ms)


def plural(count: int, unit: str) -> str:
    return f"{count:,} {unit}" + ("" if count == 1 else "s")


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"
