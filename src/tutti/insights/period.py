"""Periods a recap can cover: a year, a month, a quarter, a season, everything, or any range of days.

Boundaries are calendar days in the listener's time zone; ``end`` is exclusive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from tutti.errors import UsageError

_SEASONS = {"spring": (3, 6), "summer": (6, 9), "autumn": (9, 12), "fall": (9, 12), "winter": (12, 15)}


def _month_start(year: int, month: int) -> date:
    """First day of ``month`` (which may run past 12 into the next year)."""
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    label: str
    start: date | None  # first local day, or None for the beginning of the history
    end: date | None  # the day after the last local day, or None for no end

    @classmethod
    def parse(cls, text: str) -> Period:
        """'all', '2024', '2024-03', '2024-Q2', '2024-summer' (meteorological; winter runs Dec-Feb),
        or 'YYYY-MM-DD..YYYY-MM-DD' (both days included; either side may be left open)."""
        spec = text.strip().lower()
        try:
            if spec in ("all", "everything", ""):
                return cls("all", None, None)
            if m := re.fullmatch(r"(\d{4})", spec):
                year = int(m[1])
                return cls(spec, date(year, 1, 1), date(year + 1, 1, 1))
            if m := re.fullmatch(r"(\d{4})-(\d{1,2})", spec):
                year, month = int(m[1]), int(m[2])
                if not 1 <= month <= 12:
                    raise ValueError(f"month {month}")
                return cls(f"{year}-{month:02d}", date(year, month, 1), _month_start(year, month + 1))
            if m := re.fullmatch(r"(\d{4})-q([1-4])", spec):
                year, quarter = int(m[1]), int(m[2])
                first = 3 * (quarter - 1) + 1
                return cls(f"{year}-Q{quarter}", date(year, first, 1), _month_start(year, first + 3))
            if m := re.fullmatch(r"(\d{4})-([a-z]+)", spec):
                year, season = int(m[1]), m[2]
                if season not in _SEASONS:
                    raise ValueError(f"season {season!r}")
                first, after = _SEASONS[season]
                return cls(f"{year}-{season}", _month_start(year, first), _month_start(year, after))
            if ".." in spec:
                left, right = (side.strip() for side in spec.split("..", 1))
                start = date.fromisoformat(left) if left else None
                last = date.fromisoformat(right) if right else None
                if start and last and last < start:
                    raise ValueError("the range ends before it starts")
                return cls(f"{left or '…'}..{right or '…'}", start, last + timedelta(days=1) if last else None)
        except ValueError as exc:
            raise UsageError(f"period {text!r} cannot be read ({exc})") from None
        raise UsageError(
            f"period {text!r} cannot be read; use all, 2024, 2024-03, 2024-Q2, 2024-summer or 2024-01-01..2024-06-30"
        )

    def contains(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day < self.end)
