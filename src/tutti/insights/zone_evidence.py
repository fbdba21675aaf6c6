"""Where the listener was, as their own export tells it: a time zone suggested from the plays, never guessed blind.

Two things in an export say where a play happened: Spotify's extended history gives the country of the connection
(``country``, ISO 3166 two letters; ``ZZ`` means unknown and is ignored), and Apple Music gives the listener's UTC
offset at each play (``utc_offset_s``). For every calendar month (UTC) the most common country and every offset
held by at least a fifth of the month's located plays give the zones that fit that month: the zones of that
country (from the tz database's ``zone.tab``) whose offset at those plays is the recorded one. Consecutive months
whose zones overlap form one stay; a stay ends where no zone fits both sides (a move, a long stay abroad, a
change of country), and each stay suggests one zone from the day its first month begins.

Within a stay the zone chosen is, in order: this computer's zone when it fits (the listener most likely lives
there), a fixed ``Etc/GMT`` zone when only Apple's offsets locate the plays and the offset never changed (the
clock is exact; where the listener was is not known), else the first fitting zone in ``zone.tab`` order (within a
country, the most populous first). When the fitting zones disagree on the clock (a country with several zones,
such as the US), the suggestion says it is a guess. The suggestion is only used by recaps while the listener has
set nothing, and every recap then says so.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo

from tutti.store import Store

MIN_OFFSET_SHARE = 0.2  # an offset held by fewer of a month's located plays is a trip, not where they lived


@dataclass(frozen=True)
class Stay:
    """A stretch of months that one zone fits: the zone suggested, since when, and why."""

    since_utc: datetime | None  # None for the first stay: it applies from the beginning
    zone: str
    first_month: str  # YYYY-MM
    last_month: str
    plays: int  # located plays in these months
    countries: tuple[str, ...]  # most common first
    offsets: tuple[int, ...]  # Apple's recorded offsets, in seconds, most common first
    alternatives: tuple[str, ...]  # other zones with the same clock for these plays
    guess: bool  # other fitting zones would show a different clock

    @property
    def evidence(self) -> str:
        parts = []
        if self.countries:
            parts.append(f"connection country {', '.join(self.countries[:3])} (Spotify)")
        if self.offsets:
            parts.append(f"UTC offset {', '.join(offset_text(o) for o in self.offsets[:3])} (Apple Music)")
        span = self.first_month if self.first_month == self.last_month else f"{self.first_month} to {self.last_month}"
        text = f"{' and '.join(parts)} of {self.plays:,} plays, {span}"
        if self.guess:
            text += f"; {self.countries[0] if self.countries else 'that offset'} has several time zones: a guess"
        return text


def offset_text(seconds: int) -> str:
    sign, value = ("+" if seconds >= 0 else "−"), abs(seconds)
    return f"{sign}{value // 3600:02d}:{value % 3600 // 60:02d}"


@functools.cache
def country_zones() -> dict[str, tuple[str, ...]]:
    """Country code -> its zones in ``zone.tab`` order, from the system's tz database or the ``tzdata`` package;
    empty when neither is there (then only Apple's offsets can suggest a zone)."""
    text = None
    for folder in TZPATH:
        candidate = Path(folder) / "zone.tab"
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8")
            break
    if text is None:
        try:
            text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
        except (ModuleNotFoundError, FileNotFoundError):
            return {}
    zones: dict[str, list[str]] = defaultdict(list)
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#"):
            zones[fields[0]].append(fields[2])
    return {country: tuple(names) for country, names in zones.items()}


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _offset_at(zone: str, instant: datetime) -> int:
    offset = instant.astimezone(_zone(zone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


_EVIDENCE_SQL = """
SELECT strftime(coalesce(start_utc, end_utc), '%Y-%m') AS month,
       CASE WHEN upper(country) <> 'ZZ' THEN upper(country) END AS country,
       utc_offset_s AS offset_s,
       count(*) AS plays,
       min(coalesce(start_utc, end_utc)) AS first_instant,
       max(coalesce(start_utc, end_utc)) AS last_instant
FROM ({plays})
WHERE coalesce(start_utc, end_utc) IS NOT NULL
  AND ((country IS NOT NULL AND upper(country) <> 'ZZ') OR utc_offset_s IS NOT NULL)
GROUP BY ALL ORDER BY month
"""


@dataclass
class _Month:
    month: str
    countries: Counter[str]
    offsets: Counter[int]
    instants: dict[int, list[datetime]]  # offset -> instants it was recorded at
    country_instants: list[datetime]

    @property
    def plays(self) -> int:
        return sum(self.countries.values()) + sum(self.offsets.values())


def _months(store: Store, profile: str) -> list[_Month]:
    rows = store.con.execute(_EVIDENCE_SQL.format(plays=store.active_plays_sql(profile))).fetchall()
    months: dict[str, _Month] = {}
    for month, country, offset, plays, first, last in rows:
        m = months.setdefault(month, _Month(month, Counter(), Counter(), defaultdict(list), []))
        first, last = first.astimezone(UTC), last.astimezone(UTC)
        if offset is not None:
            m.offsets[offset] += plays
            m.instants[offset] += [first, last]
        elif country is not None:
            m.countries[country] += plays
            m.country_instants += [first, last]
    return list(months.values())


def _fitting(month: _Month) -> tuple[set[str], list[datetime]]:
    """The zones that fit a month's evidence, and the instants a zone's clock was checked at."""
    by_country = country_zones()
    universe = [zone for zones in by_country.values() for zone in zones]
    fitting: set[str] | None = None
    instants: list[datetime] = []
    if month.countries:
        country = month.countries.most_common(1)[0][0]
        fitting = set(by_country.get(country, ()))
        instants += month.country_instants
    located = sum(month.offsets.values())
    for offset, count in month.offsets.items():
        if count < MIN_OFFSET_SHARE * located:
            continue
        matching = {z for z in universe if all(_offset_at(z, i) == offset for i in month.instants[offset])}
        if offset % 3600 == 0:  # a fixed zone: it survives a stay only if the offset never changed
            matching.add(_etc_zone(offset))
        instants += month.instants[offset]
        fitting = matching if fitting is None else (fitting & matching) or fitting
    return fitting or set(), instants


def _etc_zone(offset: int) -> str:
    hours = offset // 3600
    return "Etc/GMT" if hours == 0 else f"Etc/GMT{-hours:+d}"  # POSIX signs: UTC+7 is "Etc/GMT-7"


def _choose(
    fitting: set[str], instants: list[datetime], offsets_only: bool, machine: str
) -> tuple[str, bool, list[str]]:
    """The zone a stay suggests, whether that is a guess, and the zones with the same clock."""
    order = [zone for zones in country_zones().values() for zone in zones]
    ranked = sorted(fitting, key=lambda z: (z.startswith("Etc/") != offsets_only, order.index(z) if z in order else 0))
    chosen = machine if machine in fitting else ranked[0]
    clock = [_offset_at(chosen, i) for i in instants]
    same = [z for z in ranked if z != chosen and [_offset_at(z, i) for i in instants] == clock]
    return chosen, len(same) + 1 < len(fitting), same


def suggest_stays(store: Store, profile: str, machine_zone: str = "UTC") -> list[Stay]:
    """The stays the export shows, oldest first; empty when nothing in it says where the listener was."""
    groups: list[tuple[set[str], list[_Month], list[datetime]]] = []
    for month in _months(store, profile):
        fitting, instants = _fitting(month)
        if not fitting:
            continue
        if groups and groups[-1][0] & fitting:
            zones, members, checked = groups[-1]
            groups[-1] = (zones & fitting, [*members, month], [*checked, *instants])
        else:
            groups.append((fitting, [month], instants))
    stays = []
    for i, (fitting, members, instants) in enumerate(groups):
        countries, offsets = Counter[str](), Counter[int]()
        for m in members:
            countries.update(m.countries)
            offsets.update(m.offsets)
        zone, guess, same = _choose(fitting, instants, not countries, machine_zone)
        first = members[0].month
        since = None if i == 0 else datetime.strptime(first, "%Y-%m").replace(tzinfo=UTC)
        stays.append(
            Stay(
                since_utc=since,
                zone=zone,
                first_month=first,
                last_month=members[-1].month,
                plays=sum(m.plays for m in members),
                countries=tuple(c for c, _ in countries.most_common()),
                offsets=tuple(o for o, _ in offsets.most_common()),
                alternatives=tuple(same[:5]),
                guess=guess,
            )
        )
    return _merged(stays)


def _merged(stays: list[Stay]) -> list[Stay]:
    """Neighbouring stays that chose the same zone are one stay."""
    merged: list[Stay] = []
    for stay in stays:
        if merged and merged[-1].zone == stay.zone:
            last = merged[-1]
            countries = tuple(dict.fromkeys(last.countries + stay.countries))
            offsets = tuple(dict.fromkeys(last.offsets + stay.offsets))
            merged[-1] = Stay(
                last.since_utc, last.zone, last.first_month, stay.last_month, last.plays + stay.plays,
                countries, offsets, last.alternatives, last.guess or stay.guess,
            )  # fmt: skip
        else:
            merged.append(stay)
    return merged
