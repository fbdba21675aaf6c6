"""A recap: every insight of one period together, the story a report tells (docs/recap-json.md lists its JSON).

``build_recap`` only calls the insight functions and gathers their results; each figure keeps the evidence
its own insight returns. ``recap_to_json`` turns a recap into plain JSON values (dates as ISO strings, instants
in UTC with a ``Z``).

One measure ranks everything a recap shows first (the page's headline, its lists, the busiest day, the cards):
``time`` when most of the period's events carry a measured time played, else ``plays`` (scrobbles record that a
track was heard, not for how long: their time is only estimated). ``Recap.measure`` holds the choice and
``Recap.ranked_artists``/``ranked_tracks`` the lists in that order, so that no view can pick another.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tutti.insights.clock import Clock, listening_clock
from tutti.insights.coverage import Coverage, coverage
from tutti.insights.discoveries import Discoveries, discoveries
from tutti.insights.eras import Era, eras
from tutti.insights.obsessions import Comeback, Obsession, comebacks, obsessions
from tutti.insights.scope import Scope
from tutti.insights.series import BusiestDay, DayPoint, MonthPoint, busiest_day, daily_series, monthly_series
from tutti.insights.service_recap import ServiceComparison, compare_service_recaps
from tutti.insights.skips import Skips, skips
from tutti.insights.streaks import Sessions, Streak, longest_streak, sessions
from tutti.insights.top import Ranked, top_albums, top_artists, top_shows, top_tracks
from tutti.insights.totals import Totals, totals

DEFAULT_TOP_N = 10  # entries per top list (and per list of discoveries, obsessions, skipped tracks)
JSON_FORMAT = "tutti-recap"
JSON_VERSION = 1
# At least this share of events with a measured time played: rank by time; below it, by plays.
TIMED_SHARE = 0.5
MEASURES = ("time", "plays")


@dataclass(frozen=True)
class Recap:
    profile: str
    period: str
    rule: str
    rule_description: str
    zone: str
    generated_utc: datetime
    totals: Totals
    top_artists: list[Ranked]
    top_artists_by_plays: list[Ranked]
    top_tracks: list[Ranked]
    top_tracks_by_plays: list[Ranked]
    top_albums: list[Ranked]
    top_shows: list[Ranked]
    clock: Clock
    monthly: list[MonthPoint]
    daily: list[DayPoint]
    busiest_day: BusiestDay | None
    streak: Streak
    sessions: Sessions
    discoveries: Discoveries
    obsessions: list[Obsession]
    comebacks: list[Comeback]
    eras: list[Era]
    skips: Skips
    service_recaps: list[ServiceComparison]
    period_first_day: date | None = None  # the period's first local day (None: from the history's beginning)
    period_last_day: date | None = None  # its last local day, included (None: up to the history's end)
    history_first_day: date | None = None  # the first local day of the whole history: "first heard" starts here
    history_last_day: date | None = None
    top_n: int = DEFAULT_TOP_N
    zone_basis: str = "recorded"  # recorded, option (--tz), suggested (by the export) or machine (nothing set)
    zone_note: str = ""  # where the zone comes from, in plain words: printed wherever local time is
    measure: str = "time"  # what ranks the lists shown first: "time" or "plays" (see the module docstring)
    coverage: Coverage | None = None  # the span of data the recap stands on; None only for hand-built recaps

    @property
    def ranked_artists(self) -> list[Ranked]:
        """The top artists in the recap's measure: what every view shows first."""
        return self.top_artists if self.measure == "time" else self.top_artists_by_plays

    @property
    def ranked_tracks(self) -> list[Ranked]:
        return self.top_tracks if self.measure == "time" else self.top_tracks_by_plays


def measure_of(t: Totals) -> str:
    """``time`` when at least ``TIMED_SHARE`` of the events have a measured time played, else ``plays``."""
    return "plays" if t.events and t.ms_known_share < TIMED_SHARE else "time"


def _history_days(scope: Scope) -> tuple[date | None, date | None]:
    rows: list[tuple[Any, ...]] = scope.query("SELECT min(local_date), max(local_date) FROM {history}")
    first, last = rows[0] if rows else (None, None)
    return first, last


def build_recap(scope: Scope, top_n: int | None = None) -> Recap:
    """Every insight of ``scope``; lists hold ``top_n`` entries (default ``DEFAULT_TOP_N``)."""
    n = DEFAULT_TOP_N if top_n is None else top_n
    history_first, history_last = _history_days(scope)
    period = scope.period
    headline = totals(scope)
    measure = measure_of(headline)
    return Recap(
        profile=scope.profile,
        period=period.label,
        rule=scope.rule.label,
        rule_description=scope.rule.description,
        zone=scope.zones.label,
        generated_utc=datetime.now(UTC).replace(microsecond=0),
        totals=headline,
        top_artists=top_artists(scope, n),
        top_artists_by_plays=top_artists(scope, n, by="plays"),
        top_tracks=top_tracks(scope, n),
        top_tracks_by_plays=top_tracks(scope, n, by="plays"),
        top_albums=top_albums(scope, n),
        top_shows=top_shows(scope, n),
        clock=listening_clock(scope),
        monthly=monthly_series(scope),
        daily=daily_series(scope),
        busiest_day=busiest_day(scope, measure),
        streak=longest_streak(scope),
        sessions=sessions(scope),
        discoveries=discoveries(scope, n),
        obsessions=obsessions(scope, n),
        comebacks=comebacks(scope, n=n),
        eras=eras(scope),
        skips=skips(scope, n),
        service_recaps=compare_service_recaps(scope),
        period_first_day=period.start,
        period_last_day=period.end - timedelta(days=1) if period.end else None,
        history_first_day=history_first,
        history_last_day=history_last,
        top_n=n,
        zone_basis=scope.zones.basis.value,
        zone_note=scope.zones.note,
        measure=measure,
        coverage=coverage(scope),
    )


def _plain(value: object) -> object:
    """Dates and datetimes as ISO 8601 strings (an instant in UTC ends in ``Z``; a local time has no offset),
    everything else as it is (recursing into lists and dicts)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _file_name(path: str) -> str:
    """A file as its export names it, without the folders of this machine above it: no absolute path in JSON."""
    return path.replace("\\", "/").rsplit("/", 1)[-1].rsplit("!", 1)[-1]


def recap_to_json(recap: Recap) -> dict[str, Any]:
    """The recap as plain JSON values, keys in the order docs/recap-json.md documents them."""
    body = _plain(asdict(recap))
    assert isinstance(body, dict)
    for comparison in body["service_recaps"]:
        comparison["source_file"] = _file_name(comparison["source_file"])
    return {"format": JSON_FORMAT, "version": JSON_VERSION, **body}
