"""The listener's time zone, which may change over the years (a move, a long stay abroad), and why it is that one.

Local time comes from, in order: ``--tz`` for one command; the zones the listener set (``tutti timezone``); the
zones their export suggests (``tutti.insights.zone_evidence``); this computer's zone. A plan says which of these
it stands on (``basis``) and every recap prints that note, so a zone nobody set is never shown as if it were.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from tutti.errors import UsageError
from tutti.insights.zone_evidence import Stay, offset_text, suggest_stays
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


def zone_name(zone: str) -> str:
    """A zone as people read it: fixed offsets as "UTC+07:00" (tz names them with the POSIX sign, "Etc/GMT-7")."""
    if zone.startswith("Etc/GMT") and zone[7:].lstrip("+-").isdigit():
        return "UTC" + offset_text(-int(zone[7:]) * 3600)
    return zone


@dataclass(frozen=True)
class ZoneChange:
    since_utc: datetime | None  # None: from the beginning
    zone: str


class ZoneBasis(StrEnum):
    OPTION = "option"  # --tz, for this command only
    RECORDED = "recorded"  # set by the listener
    SUGGESTED = "suggested"  # from the export, not confirmed
    MACHINE = "machine"  # this computer's zone: nothing set, nothing in the export


@dataclass(frozen=True)
class ZonePlan:
    """Which zone applies when: changes ordered by time; the first has ``since_utc`` None."""

    changes: tuple[ZoneChange, ...]
    basis: ZoneBasis = ZoneBasis.RECORDED
    evidence: str = ""  # for a suggestion: what in the export suggested it

    @classmethod
    def single(cls, zone: str, basis: ZoneBasis = ZoneBasis.OPTION) -> ZonePlan:
        return cls((ZoneChange(None, checked_zone(zone)),), basis)

    @property
    def note(self) -> str:
        """Where the zone comes from, in plain words, for every page and card that shows local time."""
        if self.basis is ZoneBasis.OPTION:
            return "chosen for this recap (--tz)"
        if self.basis is ZoneBasis.RECORDED:
            return "as you set it (tutti timezone)"
        if self.basis is ZoneBasis.SUGGESTED:
            return (
                f"not set: suggested by your export ({self.evidence}); "
                "confirm it with `tutti timezone --confirm` or set yours with `tutti timezone ZONE`"
            )
        return (
            "not set, and your export does not say where you were: this computer's zone; "
            "set yours with `tutti timezone ZONE`"
        )

    @property
    def label(self) -> str:
        return " → ".join(
            zone_name(c.zone) + (f" (from {c.since_utc:%Y-%m-%d})" if c.since_utc else "") for c in self.changes
        )

    @classmethod
    def from_changes(
        cls, changes: list[tuple[datetime | None, str]], default: str, basis: ZoneBasis = ZoneBasis.RECORDED
    ) -> ZonePlan:
        """A plan from recorded changes; before the first recorded change, ``default`` applies."""
        plan = [ZoneChange(None, checked_zone(default))]
        for since, zone in changes:
            if since is None:
                plan[0] = ZoneChange(None, checked_zone(zone))
            else:
                plan.append(ZoneChange(since, checked_zone(zone)))
        return cls(tuple(plan), basis)

    def sql_local(self, instant: str, recorded_offset: str | None = None) -> str:
        """SQL turning the TIMESTAMPTZ expression ``instant`` into local wall-clock time (TIMESTAMP).

        ``recorded_offset`` names the play's own UTC offset in seconds (Apple Music records it): while the
        listener has chosen no zone, that offset is their clock at the play, truer than any suggested zone."""
        expression = f"timezone('{self.changes[0].zone}', {instant})"
        for change in self.changes[1:]:
            assert change.since_utc is not None
            since = change.since_utc.strftime("%Y-%m-%d %H:%M:%S+00")
            expression = (
                f"CASE WHEN {instant} >= TIMESTAMPTZ '{since}' THEN timezone('{change.zone}', {instant}) "
                f"ELSE {expression} END"
            )
        if recorded_offset and self.basis in (ZoneBasis.SUGGESTED, ZoneBasis.MACHINE):
            expression = (
                f"CASE WHEN {recorded_offset} IS NOT NULL THEN timezone('UTC', {instant}) + "
                f"to_seconds({recorded_offset}) ELSE {expression} END"
            )
        return expression


def suggested_plan(stays: list[Stay]) -> ZonePlan:
    """The plan the export's stays suggest (``stays`` must not be empty)."""
    evidence = "; ".join(f"{zone_name(s.zone)} from {s.evidence}" if len(stays) > 1 else s.evidence for s in stays)
    changes = [(s.since_utc, s.zone) for s in stays]
    plan = ZonePlan.from_changes(changes, stays[0].zone, ZoneBasis.SUGGESTED)
    return ZonePlan(plan.changes, ZoneBasis.SUGGESTED, evidence)


def zone_plan_for(store: Store, profile: str, override: str | None = None) -> ZonePlan:
    """``--tz`` when given; else the zones the profile recorded (``tutti timezone``); else the zones its export
    suggests; else the system zone. Recorded changes that start later than the history's beginning keep the
    suggested (or the system) zone before them, and the plan says the beginning was not set."""
    if override:
        return ZonePlan.single(override)
    recorded = recorded_zones(store, profile)
    machine = system_zone()
    if recorded and recorded[0][0] is None:
        return ZonePlan.from_changes(recorded, machine)
    stays = suggest_stays(store, profile, machine) if store.has_profile(profile) else []
    fallback = suggested_plan(stays) if stays else ZonePlan.single(machine, ZoneBasis.MACHINE)
    if not recorded:
        return fallback
    first = fallback.changes[0].zone
    plan = ZonePlan.from_changes(recorded, first, fallback.basis)
    evidence = f"before {recorded[0][0]:%Y-%m-%d}: {first}" + (f", {fallback.evidence}" if fallback.evidence else "")
    return ZonePlan(plan.changes, fallback.basis, evidence)
