"""What a copier does to someone else's export before uploading it, built at test time from the real samples.

Each function takes Spotify account-data records (``endTime``, ``artistName``, ``trackName``, ``msPlayed``) or
extended-history records and returns a doctored list, or writes it in another format: shifted in time, cut to a
slice or a random subset, names with an invisible character appended, several histories merged, converted to
Last.fm scrobbles (the no-header CSV of lastfm-to-csv) or from the extended history to account-data form.
"""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from tests.conftest import samples_path

_END = "%Y-%m-%d %H:%M"
_TS = "%Y-%m-%dT%H:%M:%SZ"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Record = dict[str, Any]


def account_records(*parts: str) -> list[Record]:
    """The music records of a sample's account-data files, in time order."""
    folder = samples_path(*parts)
    records: list[Record] = []
    for path in sorted(folder.rglob("StreamingHistory*.json")):
        if "podcast" not in path.name and "audiobook" not in path.name:
            records += orjson.loads(path.read_bytes())
    return sorted(records, key=lambda r: str(r["endTime"]))


def extended_records(*parts: str) -> list[Record]:
    folder = samples_path(*parts)
    records: list[Record] = []
    for path in sorted(folder.glob("*.json")):
        records += orjson.loads(path.read_bytes())
    return sorted(records, key=lambda r: str(r["ts"]))


def write_account(folder: Path, records: list[Record], chunk: int = 10_000) -> Path:
    """Account-data files as the service writes them (``StreamingHistory_music_N.json``, 10,000 records each)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, start in enumerate(range(0, len(records), chunk)):
        part = sorted(records[start : start + chunk], key=lambda r: str(r["endTime"]))
        (folder / f"StreamingHistory_music_{n}.json").write_bytes(orjson.dumps(part, option=orjson.OPT_INDENT_2))
    return folder


def shifted(records: list[Record], by: timedelta) -> list[Record]:
    def move(end: str) -> str:
        return (datetime.strptime(end, _END) + by).strftime(_END)

    return [{**r, "endTime": move(r["endTime"])} for r in records]


def time_slice(records: list[Record], start: float, share: float) -> list[Record]:
    """The records from ``start`` (a fraction of the list) covering ``share`` of them: a contiguous period."""
    first = int(len(records) * start)
    return records[first : first + int(len(records) * share)]


def random_subset(records: list[Record], share: float, seed: int = 3) -> list[Record]:
    rng = random.Random(seed)
    return [r for r in records if rng.random() < share]


def invisible(records: list[Record]) -> list[Record]:
    """Every artist and title with a zero-width space appended."""
    return [{**r, "artistName": r["artistName"] + "\u200b", "trackName": r["trackName"] + "\u200b"} for r in records]


def merged(*histories: list[Record]) -> list[Record]:
    return sorted((r for h in histories for r in h), key=lambda r: str(r["endTime"]))


def write_lastfm_csv(path: Path, records: list[Record]) -> Path:
    """The plays as Last.fm scrobbles them (played 30 s or more, stamped with the start), as lastfm-to-csv writes
    them: ``artist,album,track,date`` without a header, newest first."""
    rows = []
    for r in records:
        if int(r["msPlayed"]) < 30_000:
            continue
        start = datetime.strptime(r["endTime"], _END).replace(tzinfo=UTC) - timedelta(milliseconds=int(r["msPlayed"]))
        date = f"{start.day:02d} {_MONTHS[start.month - 1]} {start.year} {start.hour:02d}:{start.minute:02d}"
        rows.append((start, [r["artistName"], "", r["trackName"], date]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        for _start, row in sorted(rows, key=lambda x: x[0], reverse=True):
            writer.writerow(row)
    return path


def extended_to_account(records: list[Record]) -> list[Record]:
    """Extended-history track plays in account-data form: end minute, names and time played only."""
    return [
        {
            "endTime": datetime.strptime(r["ts"], _TS).strftime(_END),
            "artistName": r["master_metadata_album_artist_name"],
            "trackName": r["master_metadata_track_name"],
            "msPlayed": r["ms_played"],
        }
        for r in records
        if r.get("master_metadata_track_name")
    ]
