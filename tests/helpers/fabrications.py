"""Fabricated and repackaged exports for the cooperative's tests: what cheaters upload, built at test time.

The collective's "150 plays of one top track" padding (a checked-in fixture), a real export doctored with an
impossible second play 10 s into every play, uniformly random times and durations, the demo's invented listener,
and an export zipped the way the service hands it out.
"""

from __future__ import annotations

import random
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from tests.conftest import DATA, samples_path
from tutti.demo import extended_records

PADDING = DATA / "coop" / "padding_150_plays_of_one_track"
_TS = "%Y-%m-%dT%H:%M:%SZ"


def write_records(folder: Path, name: str, records: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(orjson.dumps(records, option=orjson.OPT_INDENT_2))
    return folder


def doctored_overlaps(records: list[dict[str, Any]], seed: int = 1) -> list[dict[str, Any]]:
    """Every play kept, plus a second one 10 s later under another track: twice the listening, impossible."""
    rng = random.Random(seed)
    tracks = [r for r in records if r.get("master_metadata_track_name")]
    doctored = []
    for record in records:
        other = rng.choice(tracks)
        ts = datetime.strptime(record["ts"], _TS).replace(tzinfo=UTC) + timedelta(seconds=10)
        doctored.append(record)
        doctored.append(
            {
                **record,
                "ts": ts.strftime(_TS),
                "master_metadata_track_name": other["master_metadata_track_name"],
                "master_metadata_album_artist_name": other["master_metadata_album_artist_name"],
                "master_metadata_album_album_name": other["master_metadata_album_album_name"],
                "spotify_track_uri": other["spotify_track_uri"],
            }
        )
    return doctored


def uniform_random(records: list[dict[str, Any]], count: int = 5_000, seed: int = 2) -> list[dict[str, Any]]:
    """Real tracks at uniformly random times over a year, for uniformly random lengths."""
    rng = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    made = [
        {
            **rng.choice(records),
            "ts": (start + timedelta(seconds=rng.randrange(365 * 86400))).strftime(_TS),
            "ms_played": rng.randrange(0, 300_000),
        }
        for _ in range(count)
    ]
    return sorted(made, key=lambda r: r["ts"])


def synthetic_records(count: int = 6_000) -> list[dict[str, Any]]:
    """The demo's invented listener (works where the real samples are absent)."""
    return list(extended_records(count, seed=11))


def mica_records() -> list[dict[str, Any]]:
    path = samples_path("spotify-extended", "mica-92", "Streaming_History_Audio_2024_4.json")
    records: list[dict[str, Any]] = orjson.loads(path.read_bytes())
    return records


def zip_folder(folder: Path, out: Path) -> Path:
    """An export zipped the way the service hands it out (built at test time from the checked-in folder)."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    return out


def clockwork(count: int = 20_000, seed: int = 7, every: int = 200) -> list[dict[str, Any]]:
    """The crude fabrication: a play every ``every`` seconds, day and night, of invented tracks by invented
    artists, with plausible-looking fields (lengths, reasons, platforms, flags, identifiers)."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ren", "to", "sa", "vel", "dor", "ni", "ash", "qu", "bre", "on", "tis"]

    def name(words: int) -> str:
        return " ".join("".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))).title() for _ in range(words))

    artists = [name(rng.randint(1, 2)) for _ in range(400)]
    tracks = [
        (rng.choice(artists), name(rng.randint(1, 4)), f"spotify:track:{rng.getrandbits(64):022x}")
        for _ in range(4_000)
    ]
    start = datetime(2023, 1, 1, tzinfo=UTC)
    made = []
    for i in range(count):
        artist, title, uri = rng.choice(tracks)
        made.append(
            {
                "ts": (start + timedelta(seconds=every * (i + 1))).strftime(_TS),
                "platform": rng.choice(["android", "ios", "windows"]),
                "ms_played": rng.randint(every * 500, every * 1000),
                "conn_country": "NL",
                "ip_addr": "192.0.2.1",
                "master_metadata_track_name": title,
                "master_metadata_album_artist_name": artist,
                "master_metadata_album_album_name": name(2),
                "spotify_track_uri": uri,
                "episode_name": None,
                "episode_show_name": None,
                "spotify_episode_uri": None,
                "reason_start": rng.choice(["trackdone", "clickrow", "fwdbtn", "playbtn"]),
                "reason_end": rng.choice(["trackdone", "endplay", "fwdbtn", "logout"]),
                "shuffle": rng.random() < 0.5,
                "skipped": rng.random() < 0.1,
                "offline": False,
                "offline_timestamp": None,
                "incognito_mode": False,
            }
        )
    return made


def extended_records_of(*parts: str) -> list[dict[str, Any]]:
    """Every record of a real extended-history export's files."""
    return [r for path in sorted(samples_path(*parts).glob("*.json")) for r in orjson.loads(path.read_bytes())]


_NAME_FIELDS = ("master_metadata_track_name", "master_metadata_album_artist_name", "master_metadata_album_album_name")


def renamed(
    records: list[dict[str, Any]], names_from: list[dict[str, Any]], *, uris: str = "their own", seed: int = 5
) -> list[dict[str, Any]]:
    """A real history (its times, lengths and habits) retold with another's real track names: the lengths are
    then invented for those tracks. ``uris``: ``their own`` keeps each name's real URI; ``another track's``
    gives each name the URI of another real track."""
    rng = random.Random(seed)
    tracks = sorted(
        {tuple(r[f] for f in (*_NAME_FIELDS, "spotify_track_uri")) for r in names_from if r.get(_NAME_FIELDS[0])}
    )
    given = {r.get("spotify_track_uri"): rng.choice(tracks) for r in records if r.get(_NAME_FIELDS[0])}
    shuffled = [t[3] for t in tracks]
    rng.shuffle(shuffled)
    other_uri = {t[3]: shuffled[i] if shuffled[i] != t[3] else shuffled[i - 1] for i, t in enumerate(tracks)}
    made = []
    for record in records:
        if not record.get(_NAME_FIELDS[0]):
            made.append(record)
            continue
        *names, uri = given[record.get("spotify_track_uri")]
        made.append(
            {
                **record,
                **dict(zip(_NAME_FIELDS, names, strict=True)),
                "spotify_track_uri": uri if uris == "their own" else other_uri[uri],
            }
        )
    return made
