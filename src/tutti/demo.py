"""A made-up listener's exports, in the services' real shapes, for the demo and the benchmarks.

Nothing here is anyone's real history: artists and titles are invented from syllables. The shape is real:
Spotify extended-history files (23 keys, ``ts`` the end time, ~16k records per file, pretty-printed) and a
Last.fm scrobble CSV that repeats part of the same plays, so the demo shows cross-source merging too. The demo
history runs from 2024 to the hour before it is made, so that the README's examples and the current year work.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

_SYLLABLES = ("la", "mo", "ri", "sun", "vel", "ka", "tor", "ny", "el", "dra", "quo", "bi", "shi", "ro", "za")
_EXTRA_NAMES = ("Ólafur Ørn", "Сестра Луна", "夜の光", "Ñandú", "L'Été Bleu", "Zoë & the Ψ")
_PLATFORMS = ("android", "ios", "windows", "osx", "cast", "web_player windows 10;chrome 120;desktop")
_HOME = "DE"  # the demo listener lives in Germany and now and then listens abroad
_ABROAD = ("FR", "ES", "IT", "NL", "US")
RECORDS_PER_FILE = 16_000
DEMO_FIRST_YEAR = 2024  # the demo history runs from here to today


@dataclass(frozen=True)
class _Track:
    artist: str
    album: str
    name: str
    uri: str
    length_ms: int


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


def _catalogue(rng: random.Random, artists: int = 600) -> list[_Track]:
    tracks: list[_Track] = []
    names = [f"{_word(rng, 2)} {_word(rng, rng.randint(1, 3))}" for _ in range(artists - len(_EXTRA_NAMES))]
    for artist in [*_EXTRA_NAMES, *names]:
        for _ in range(rng.randint(1, 3)):
            album = f"{_word(rng, rng.randint(2, 4))}"
            for _ in range(rng.randint(4, 12)):
                uri = "spotify:track:" + "".join(rng.choice("ABCDEFGHabcdefgh0123456789") for _ in range(22))
                tracks.append(_Track(artist, album, _word(rng, rng.randint(2, 5)), uri, rng.randint(120, 360) * 1000))
    return tracks


def extended_records(count: int, seed: int = 7, start: datetime | None = None) -> Iterator[dict[str, Any]]:
    """``count`` plays in Spotify's V3 extended-history shape, in time order, over about ten years."""
    rng = random.Random(seed)
    catalogue = _catalogue(rng)
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(catalogue))]
    rng.shuffle(weights)
    now = start or datetime(2016, 1, 1, 7, tzinfo=UTC)
    gap_s = max(1, int(10 * 365 * 86400 / max(count, 1)) - 200)
    picks = iter(())  # type: Iterator[_Track]
    for i in range(count):
        if i % 4096 == 0:
            picks = iter(rng.choices(catalogue, weights, k=4096))
        track = next(picks)
        podcast = rng.random() < 0.03
        roll = rng.random()
        if roll < 0.22:
            reason_end, ms = "fwdbtn", rng.randint(0, 29_000)
        elif roll < 0.27:
            reason_end, ms = "endplay", rng.randint(0, track.length_ms)
        else:
            reason_end, ms = "trackdone", track.length_ms
        now += timedelta(milliseconds=ms) + timedelta(seconds=rng.randint(0, gap_s) if rng.random() < 0.2 else 1)
        offline = rng.random() < 0.05
        yield {
            "ts": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "platform": rng.choice(_PLATFORMS),
            "ms_played": ms * 8 if podcast else ms,
            "conn_country": _HOME if rng.random() < 0.95 else rng.choice(_ABROAD),
            "ip_addr": "192.0.2.1",
            "master_metadata_track_name": None if podcast else track.name,
            "master_metadata_album_artist_name": None if podcast else track.artist,
            "master_metadata_album_album_name": None if podcast else track.album,
            "spotify_track_uri": None if podcast else track.uri,
            "episode_name": f"Episode {i % 300}" if podcast else None,
            "episode_show_name": f"The {track.artist} Hour" if podcast else None,
            "spotify_episode_uri": f"spotify:episode:{i % 300:022d}" if podcast else None,
            "audiobook_title": None,
            "audiobook_uri": None,
            "audiobook_chapter_uri": None,
            "audiobook_chapter_title": None,
            "reason_start": "trackdone" if rng.random() < 0.7 else "clickrow",
            "reason_end": reason_end,
            "shuffle": rng.random() < 0.4,
            "skipped": reason_end == "fwdbtn",
            "offline": offline,
            "offline_timestamp": int(now.timestamp()) - ms // 1000,
            "incognito_mode": rng.random() < 0.002,
        }


def _stretched(records: list[dict[str, Any]], first: datetime, last: datetime) -> list[dict[str, Any]]:
    """The records with their times spread linearly so that the first ends at ``first`` and the last at ``last``.

    Only stretching is safe (gaps grow, plays keep their length, nothing overlaps): a shorter span is refused.
    """
    ends = [datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) for r in records]
    old_span = (ends[-1] - ends[0]).total_seconds() or 1.0
    factor = (last - first).total_seconds() / old_span
    if factor < 1:
        raise ValueError("a generated history can be stretched, not squeezed")
    stretched = []
    for record, end in zip(records, ends, strict=True):
        moved = first + timedelta(seconds=round((end - ends[0]).total_seconds() * factor))
        stretched.append(
            {**record, "ts": moved.strftime("%Y-%m-%dT%H:%M:%SZ"),
             "offline_timestamp": int(moved.timestamp()) - record["ms_played"] // 1000}
        )  # fmt: skip
    return stretched


def write_extended_export(
    folder: Path, count: int, seed: int = 7, span: tuple[datetime, datetime] | None = None
) -> list[Path]:
    """Write ``count`` plays as Streaming_History_Audio_<years>_<n>.json files of ~16k records each; with ``span``
    the plays are spread from its first to its last moment."""
    folder.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    records: list[dict[str, Any]] = list(extended_records(count, seed))
    if span and records:
        records = _stretched(records, *span)
    for at in range(0, len(records), RECORDS_PER_FILE):
        chunk = records[at : at + RECORDS_PER_FILE]
        years = sorted({chunk[0]["ts"][:4], chunk[-1]["ts"][:4]})
        path = folder / f"Streaming_History_Audio_{'-'.join(years)}_{len(files)}.json"
        path.write_bytes(orjson.dumps(chunk, option=orjson.OPT_INDENT_2))
        files.append(path)
    return files


def demo_span(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The days the demo history covers: from the start of ``DEMO_FIRST_YEAR`` (the year the README's examples
    use) to an hour before ``now``, so that every README command and the current year have plays to show."""
    last = (now or datetime.now(UTC)).replace(microsecond=0) - timedelta(hours=1)
    return datetime(DEMO_FIRST_YEAR, 1, 1, 8, tzinfo=UTC), last


def write_demo_export(folder: Path, seed: int = 7, plays: int = 20_000, now: datetime | None = None) -> Path:
    """A demo export folder: Spotify extended history (``demo_span``) plus a Last.fm CSV scrobbling a stretch."""
    root = folder / "demo_export"
    spotify = root / "Spotify Extended Streaming History"
    write_extended_export(spotify, plays, seed, demo_span(now))
    records: list[dict[str, Any]] = []
    for path in sorted(spotify.glob("*.json")):
        records.extend(orjson.loads(path.read_bytes()))
    rng = random.Random(seed)
    scrobbled = [
        r
        for r in records[len(records) // 2 :]
        if r["master_metadata_track_name"] and r["ms_played"] >= 30_000 and not r["incognito_mode"]
    ]
    lastfm = root / "lastfm_scrobbles.csv"
    with lastfm.open("w", newline="", encoding="utf-8") as fp:
        writer = csv.writer(fp, quoting=csv.QUOTE_ALL)
        writer.writerow(["uts", "utc_time", "artist", "artist_mbid", "album", "album_mbid", "track", "track_mbid"])
        for r in reversed(scrobbled):  # Last.fm exports are newest first
            end = datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            start = end - timedelta(milliseconds=r["ms_played"]) + timedelta(seconds=rng.randint(0, 3))
            writer.writerow(
                [
                    int(start.timestamp()),
                    start.strftime("%d %b %Y, %H:%M"),
                    r["master_metadata_album_artist_name"],
                    "",
                    r["master_metadata_album_album_name"],
                    "",
                    r["master_metadata_track_name"],
                    "",
                ]
            )
    return root
