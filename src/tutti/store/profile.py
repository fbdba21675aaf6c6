"""What a profile records about its listener beyond plays: the time zones they lived in, and since when."""

from __future__ import annotations

from datetime import datetime

from tutti.store import Store
from tutti.store._sql import run


def record_zone(store: Store, profile: str, zone: str, since_utc: datetime | None) -> None:
    """From ``since_utc`` on (or always, when None) the listener lived in ``zone``; replaces a change at that time."""
    store.require_profile(profile)
    with store.transaction():
        run(
            store.con,
            "DELETE FROM profile_zones WHERE profile = ? AND since_utc IS NOT DISTINCT FROM ?",
            [profile, since_utc],
        )
        run(store.con, "INSERT INTO profile_zones VALUES (?, ?, ?)", [profile, since_utc, zone])


def recorded_zones(store: Store, profile: str) -> list[tuple[datetime | None, str]]:
    """The profile's zone changes, oldest first; the first one applies from the beginning."""
    rows = store.con.execute(
        "SELECT since_utc, zone FROM profile_zones WHERE profile = ? ORDER BY since_utc NULLS FIRST", [profile]
    ).fetchall()
    return [(since, zone) for since, zone in rows]


def remove_zone(store: Store, profile: str, since_utc: datetime | None) -> bool:
    """Forget the zone change at ``since_utc`` (None: the one from the beginning); False when there was none."""
    store.require_profile(profile)
    condition = "profile = ? AND since_utc IS NOT DISTINCT FROM ?"
    with store.transaction():
        row = store.con.execute(
            f"SELECT count(*) FROM profile_zones WHERE {condition}", [profile, since_utc]
        ).fetchall()
        if not row or not row[0][0]:
            return False
        run(store.con, f"DELETE FROM profile_zones WHERE {condition}", [profile, since_utc])
    return True
