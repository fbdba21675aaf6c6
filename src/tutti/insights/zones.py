"""The listener's time zone, which may change over the years (a move, a long stay abroad)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from tutti.errors import UsageError
from tutti.store import Store
from tutti.store.profile import recorded_zones


def system_zone() -> str:
    """The machine's IANA zone name: $TZ, else /etc/timezone, else the /etc/localtime link, else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    timezone_file = Path("/etc/timezone")
    if timezone_file.is_file():
        candidates.append(timezone_file.read_text(encoding="utf-8").strip())
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    for name in candidates:
        if name and _is_zone(name):
            return name
    return "UTC"


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def checked_zone(name: str) -> str:
    if not _is_zone(name):
        close = sorted(z for z in available_timezones() if name.lower() in z.lower())[:5]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UsageError(f"unknown time zone {name!r}{hint}")
    return name


@dataclass(frozen=True)
class ZoneChange:
    since_utc: datetime | None  # None: from the beginning
    zone: str


@dataclass(frozen=True)
class ZonePlan:
    """Which zone applies when: changes ordered by time; the first has ``since_utc`` None."""

    changes: tuple[ZoneChange, ...]

    @classmethod
    def single(cls, zone: str) -> ZonePlan:
        return cls((ZoneChange(None, checked_zone(zone)),))

    @property
    def label(self) -> str:
        return " → ".join(c.zone + (f" (from {c.since_utc:%Y-%m-%d})" if c.since_utc else "") for c in self.changes)

    @classmethod
    def from_changes(cls, changes: list[tuple[datetime | None, str]], default: str) -> ZonePlan:
        """A plan from recorded changes; before the first recorded change, ``default`` applies."""
        plan = [ZoneChange(None, checked_zone(default))]
        for since, zone in changes:
            if since is None:
                plan[0] = ZoneChange(None, checked_zone(zone))
            else:
                plan.append(ZoneChange(since, checked_zone(zone)))
        return cls(tuple(plan))

    def sql_local(self, instant: str) -> str:
        """SQL turning the TIMESTAMPTZ expression ``instant`` into local wall-clock time (TIMESTAMP)."""
        expression = f"timezone('{self.changes[0].zone}', {instant})"
        for change in self.changes[1:]:
            assert change.since_utc is not None
            since = change.since_utc.strftime("%Y-%m-%d %H:%M:%S+00")
            expression = (
                f"CASE WHEN {instant} >= TIMESTAMPTZ '{since}' THEN timezone('{change.zone}', {instant}) "
                f"ELSE {expression} END"
            )
        return expression


def zone_plan_for(store: Store, profile: str, override: str | None = None) -> ZonePlan:
    """``--tz`` when given; else the zones the profile recorded (``tutti timezone``); else the system zone."""
    if override:
        return ZonePlan.single(override)
    return ZonePlan.from_changes(recorded_zones(store, profile), system_zone())
