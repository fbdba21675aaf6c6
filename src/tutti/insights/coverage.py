"""What a recap stands on: the days of the period that the stored history covers, per source, and whether there
is enough to tell at all.

A recap of "2024" built on an export that starts on 22 August 2024 covers 132 of the year's 366 days; saying
"2024" without that would mislead. ``coverage`` returns the span of the data (the whole stored history, and each
source's own span), the part of the period inside it, and a ``status``:

* ``empty``: the period holds no play (only skips, failed loads, or nothing at all);
* ``thin``: fewer than ``MIN_PLAYS`` plays, too few for a story (a top artist of two plays is not one);
* ``partial``: the history starts after the period starts or ends before it ends;
* ``full``: the history covers every day of the period.

Days are local calendar days. "Covered" is about the span of the data, not about listening: a quiet week in
the middle of the history is covered (the export would have shown plays), a week before its first play is not.
Per-day figures ("days with music of N days") use the covered days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tutti.insights.scope import Scope

MIN_PLAYS = 5  # fewer plays than this in a period: nothing worth a page of figures or a card
STATUSES = ("empty", "thin", "partial", "full")


@dataclass(frozen=True)
class SourceSpan:
    source: str
    first_day: date
    last_day: date


@dataclass(frozen=True)
class Coverage:
    status: str  # one of STATUSES
    plays: int  # plays in the period (the play rule's)
    data_first_day: date | None  # the stored history's first and last local day (None: no history)
    data_last_day: date | None
    covered_first_day: date | None  # the part of the period inside the history's span (None: no overlap)
    covered_last_day: date | None
    covered_days: int  # days of the period inside the history's span
    period_days: int | None  # calendar days of the period; None for an open period (all, an open range)
    sources: list[SourceSpan]  # each source's span of days, earliest first
    partial: bool  # the period has days outside the history's span

    @property
    def tellable(self) -> bool:
        """Whether there is enough to tell: at least ``MIN_PLAYS`` plays."""
        return self.status not in ("empty", "thin")


def coverage(scope: Scope) -> Coverage:
    """The coverage of ``scope``'s period by its history (two small queries)."""
    spans: list[tuple[Any, ...]] = scope.query(
        "SELECT source, min(local_date), max(local_date) FROM {history} GROUP BY source ORDER BY 2, 1"
    )
    counted: list[tuple[Any, ...]] = scope.query("SELECT count(*) FILTER (WHERE counts) FROM {plays}")
    plays = int(counted[0][0] or 0) if counted else 0
    sources = [SourceSpan(str(source), first, last) for source, first, last in spans]
    data_first = min((s.first_day for s in sources), default=None)
    data_last = max((s.last_day for s in sources), default=None)
    period = scope.period
    period_last = period.end - timedelta(days=1) if period.end else None
    covered_first = max(filter(None, (period.start, data_first)), default=None)
    covered_last = min(filter(None, (period_last, data_last)), default=None)
    if data_first is None or covered_first is None or covered_last is None or covered_last < covered_first:
        covered_first = covered_last = None
    covered_days = (covered_last - covered_first).days + 1 if covered_first and covered_last else 0
    period_days = (period.end - period.start).days if period.start and period.end else None
    if plays == 0:
        status = "empty"
    elif plays < MIN_PLAYS:
        status = "thin"
    elif period_days is not None and covered_days < period_days:
        status = "partial"
    else:
        status = "full"
    return Coverage(
        status=status,
        plays=plays,
        data_first_day=data_first,
        data_last_day=data_last,
        covered_first_day=covered_first,
        covered_last_day=covered_last,
        covered_days=covered_days,
        period_days=period_days,
        sources=sources,
        partial=period_days is not None and covered_days < period_days,
    )
