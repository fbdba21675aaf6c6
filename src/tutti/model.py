"""The canonical play record and its friends.

Every importer turns its export into ``Play`` records (or, on the fast path, straight into an Arrow
table of ``PLAY_SCHEMA``); everything downstream reads only this shape.

Times are UTC. ``end_utc`` is when the play stopped (Spotify's ``ts``/``endTime``); ``start_utc`` is when it
began (what scrobblers record). Whichever one the export lacks is derived from ``ms_played`` when that is known.
Derived interpretations (normalised platform, derived skip) sit beside the raw values, never instead of them.
Nothing identifying is ever part of a play: no IP address, user agent, username, e-mail or account id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

import pyarrow as pa


class Source(StrEnum):
    """Where a play came from; the order is the preference when copies of one play are merged."""

    SPOTIFY_EXTENDED = "spotify_extended"
    SPOTIFY_ACCOUNT = "spotify_account"
    APPLE_MUSIC = "apple_music"
    LISTENBRAINZ = "listenbrainz"
    LASTFM = "lastfm"
    YOUTUBE_MUSIC = "youtube_music"


SOURCE_PREFERENCE: dict[str, int] = {s.value: i for i, s in enumerate(Source)}


class ContentKind(StrEnum):
    MUSIC = "music"
    PODCAST = "podcast"
    AUDIOBOOK = "audiobook"
    VIDEO = "video"
    UNKNOWN = "unknown"


class Platform(StrEnum):
    """A small vocabulary for the device a play happened on; the raw text is kept beside it."""

    ANDROID = "android"
    IOS = "ios"
    DESKTOP = "desktop"
    WEB = "web"
    CAST = "cast"
    TV = "tv"
    CONSOLE = "console"
    CAR = "car"
    SPEAKER = "speaker"
    WEARABLE = "wearable"
    OTHER = "other"
    UNKNOWN = "unknown"


class TimePrecision(StrEnum):
    """How finely the export recorded the time; minute-precision exports repeat real plays in one minute."""

    SECOND = "second"
    MINUTE = "minute"


# Keyword -> platform, tried in order against the lower-cased raw text. Spotify wrote free text until late
# 2023 ("Android OS 12 API 31 (samsung, SM-G781U)", "Partner google cast_tv;Chromecast;;") and tokens since.
_PLATFORM_KEYWORDS: tuple[tuple[str, Platform], ...] = (
    ("cast", Platform.CAST),
    ("chromecast", Platform.CAST),
    ("google_home", Platform.SPEAKER),
    ("sonos", Platform.SPEAKER),
    ("alexa", Platform.SPEAKER),
    ("amazon_echo", Platform.SPEAKER),
    ("homepod", Platform.SPEAKER),
    ("speaker", Platform.SPEAKER),
    ("web_player", Platform.WEB),
    ("web player", Platform.WEB),
    ("webplayer", Platform.WEB),
    ("browser", Platform.WEB),
    ("playstation", Platform.CONSOLE),
    ("ps4", Platform.CONSOLE),
    ("ps5", Platform.CONSOLE),
    ("xbox", Platform.CONSOLE),
    ("android_tv", Platform.TV),
    ("tizen", Platform.TV),
    ("webos", Platform.TV),
    ("smart_tv", Platform.TV),
    ("tvos", Platform.TV),
    ("apple tv", Platform.TV),
    ("roku", Platform.TV),
    ("fire tv", Platform.TV),
    ("android auto", Platform.CAR),
    ("carplay", Platform.CAR),
    ("car_thing", Platform.CAR),
    ("automotive", Platform.CAR),
    ("wear os", Platform.WEARABLE),
    ("watchos", Platform.WEARABLE),
    ("apple watch", Platform.WEARABLE),
    ("garmin", Platform.WEARABLE),
    ("android", Platform.ANDROID),
    ("ios", Platform.IOS),
    ("iphone", Platform.IOS),
    ("ipad", Platform.IOS),
    ("ipod", Platform.IOS),
    ("windows", Platform.DESKTOP),
    ("win32", Platform.DESKTOP),
    ("os x", Platform.DESKTOP),
    ("osx", Platform.DESKTOP),
    ("macos", Platform.DESKTOP),
    ("mac os", Platform.DESKTOP),
    ("linux", Platform.DESKTOP),
    ("desktop", Platform.DESKTOP),
    ("itunes", Platform.DESKTOP),
    ("not_applicable", Platform.UNKNOWN),
    ("unknown", Platform.UNKNOWN),
)


@lru_cache(maxsize=4096)
def normalize_platform(raw: str | None) -> Platform:
    """Map a raw platform text (any era, any service) onto the small vocabulary."""
    if raw is None or not raw.strip():
        return Platform.UNKNOWN
    text = raw.strip().lower()
    for keyword, platform in _PLATFORM_KEYWORDS:
        if keyword in text:
            return platform
    return Platform.OTHER


# Spotify's reason_end values that mean the listener moved on before the end.
SKIP_REASONS: frozenset[str] = frozenset({"fwdbtn", "backbtn"})


def derive_skipped(raw_skipped: bool | None, reason_end: str | None) -> bool | None:
    """A play was skipped if Spotify says so, or if it ended by the forward/back button.

    Spotify's own ``skipped`` flag is null in old exports and stuck at false for years in others, so the
    end reason is the reliable signal; ``None`` means the export cannot tell.
    """
    if raw_skipped:
        return True
    if reason_end:
        return reason_end in SKIP_REASONS
    return False if raw_skipped is False else None


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Digital listening histories begin well after this, and no play is in the future beyond clock skew.
EARLIEST_PLAUSIBLE = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=2)
# Longer than any single track, episode or audiobook chapter plausibly plays in one go.
MAX_PLAUSIBLE_MS = 24 * 3600 * 1000


def utc_from_unix(seconds: float) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


class ProblemKind(StrEnum):
    """What is wrong with a record that was not stored. Code decides by the kind; people read the sentence."""

    UNREADABLE = "unreadable"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    INVALID_TIME = "invalid_time"
    IMPLAUSIBLE_TIME = "implausible_time"
    NEGATIVE_DURATION = "negative_duration"
    IMPLAUSIBLE_DURATION = "implausible_duration"
    KNOWN_EXPORT_FAULT = "known_export_fault"


# What each kind means, for people (the README's table and `tutti formats` show these words).
PROBLEM_KINDS: dict[ProblemKind, str] = {
    ProblemKind.UNREADABLE: "not a record of the file's shape: not an object, the wrong number of fields",
    ProblemKind.MISSING_FIELD: "a value the record cannot do without is absent or empty (no time, no title)",
    ProblemKind.WRONG_TYPE: "a value of the wrong kind: text for a number, 1.9 for a whole number",
    ProblemKind.INVALID_VALUE: "a value outside what the format allows (a feedback score of 5)",
    ProblemKind.INVALID_TIME: "a time that cannot be read or does not exist (2023-02-30, 23:59:60)",
    ProblemKind.IMPLAUSIBLE_TIME: "a real time no play can have: before 2000, or in the future",
    ProblemKind.NEGATIVE_DURATION: "less than no time played",
    ProblemKind.IMPLAUSIBLE_DURATION: "more time played than any play lasts: over 24 hours",
    ProblemKind.KNOWN_EXPORT_FAULT: "a value the service is known to write wrongly (Apple's negative durations)",
}
assert set(PROBLEM_KINDS) == set(ProblemKind), "every problem kind is described"

# Values that cannot describe a real play: a sign of an edited or made-up file, unlike a damaged or odd one.
IMPLAUSIBLE_KINDS: frozenset[ProblemKind] = frozenset(
    {ProblemKind.IMPLAUSIBLE_TIME, ProblemKind.NEGATIVE_DURATION, ProblemKind.IMPLAUSIBLE_DURATION}
)


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """A record that was not stored, its kind, and why in words. Counted and shown, never dropped silently."""

    file: str
    record: str
    kind: ProblemKind
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.record}: {self.reason}"


class RecordRefused(Exception):
    """Raised while reading one record that cannot be stored; the importer turns it into an ImportProblem."""

    def __init__(self, kind: ProblemKind, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason

    def at(self, file: str, record: str) -> ImportProblem:
        return ImportProblem(file, record, self.kind, self.reason)


def check_plausible(when: datetime | None, ms_played: int | None, *, now: datetime | None = None) -> None:
    """Raise ``RecordRefused`` when a record's time or time played cannot describe a real play."""
    if ms_played is not None and ms_played < 0:
        raise RecordRefused(ProblemKind.NEGATIVE_DURATION, f"negative ms_played ({ms_played})")
    if ms_played is not None and ms_played > MAX_PLAUSIBLE_MS:
        raise RecordRefused(ProblemKind.IMPLAUSIBLE_DURATION, f"ms_played of {ms_played} is more than 24 hours")
    if when is not None:
        if when < EARLIEST_PLAUSIBLE:
            raise RecordRefused(ProblemKind.IMPLAUSIBLE_TIME, f"time {when.isoformat()} is before 2000")
        if when > (now or datetime.now(UTC)) + FUTURE_TOLERANCE:
            raise RecordRefused(ProblemKind.IMPLAUSIBLE_TIME, f"time {when.isoformat()} is in the future")


@dataclass(frozen=True, slots=True)
class Play:
    """One listening event, exactly as the export told it, plus a few labelled interpretations."""

    source: Source
    source_file: str
    record_index: int
    end_utc: datetime | None = None
    start_utc: datetime | None = None
    ms_played: int | None = None
    time_precision: TimePrecision = TimePrecision.SECOND
    track: str | None = None
    artist: str | None = None
    album: str | None = None
    content_kind: ContentKind = ContentKind.MUSIC
    duration_ms: int | None = None
    spotify_uri: str | None = None
    recording_mbid: str | None = None
    artist_mbid: str | None = None
    release_mbid: str | None = None
    isrc: str | None = None
    platform: Platform = Platform.UNKNOWN
    platform_raw: str | None = None
    country: str | None = None
    reason_start: str | None = None
    reason_end: str | None = None
    shuffle: bool | None = None
    skipped: bool | None = None
    skipped_raw: bool | None = None
    offline: bool | None = None
    offline_utc: datetime | None = None
    incognito: bool | None = None
    # The listener's offset from UTC at the play, in seconds, when the export records it (Apple Music does, per
    # play): local time without guessing a zone. Not an identity field, so stores keyed before it keep their ids.
    utc_offset_s: int | None = None

    def __post_init__(self) -> None:
        # Fill whichever end of the play the export left out, when the duration says where it is.
        if self.ms_played is not None:
            delta = timedelta(milliseconds=self.ms_played)
            if self.start_utc is None and self.end_utc is not None:
                object.__setattr__(self, "start_utc", self.end_utc - delta)
            elif self.end_utc is None and self.start_utc is not None:
                object.__setattr__(self, "end_utc", self.start_utc + delta)

    @property
    def when(self) -> datetime | None:
        """The best single instant for the play: its start, else its end."""
        return self.start_utc or self.end_utc


_TS = pa.timestamp("us", tz="UTC")

PLAY_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("record_index", pa.int64(), nullable=False),
        pa.field("end_utc", _TS),
        pa.field("start_utc", _TS),
        pa.field("ms_played", pa.int64()),
        pa.field("time_precision", pa.string(), nullable=False),
        pa.field("track", pa.string()),
        pa.field("artist", pa.string()),
        pa.field("album", pa.string()),
        pa.field("content_kind", pa.string(), nullable=False),
        pa.field("duration_ms", pa.int64()),
        pa.field("spotify_uri", pa.string()),
        pa.field("recording_mbid", pa.string()),
        pa.field("artist_mbid", pa.string()),
        pa.field("release_mbid", pa.string()),
        pa.field("isrc", pa.string()),
        pa.field("platform", pa.string(), nullable=False),
        pa.field("platform_raw", pa.string()),
        pa.field("country", pa.string()),
        pa.field("reason_start", pa.string()),
        pa.field("reason_end", pa.string()),
        pa.field("shuffle", pa.bool_()),
        pa.field("skipped", pa.bool_()),
        pa.field("skipped_raw", pa.bool_()),
        pa.field("offline", pa.bool_()),
        pa.field("offline_utc", _TS),
        pa.field("incognito", pa.bool_()),
        pa.field("utc_offset_s", pa.int32()),
    ]
)
PLAY_COLUMNS: tuple[str, ...] = tuple(PLAY_SCHEMA.names)
assert tuple(f.name for f in fields(Play)) == PLAY_COLUMNS, "PLAY_SCHEMA and Play must list the same fields"


def plays_to_table(plays: Sequence[Play]) -> pa.Table:
    """Turn Play records into an Arrow table of PLAY_SCHEMA."""
    columns = {name: [getattr(p, name) for p in plays] for name in PLAY_COLUMNS}
    return pa.Table.from_pydict(columns, schema=PLAY_SCHEMA)


def table_to_plays(table: pa.Table) -> list[Play]:
    """The inverse of ``plays_to_table``."""
    plays = []
    for row in table.select(list(PLAY_COLUMNS)).to_pylist():
        row["source"] = Source(row["source"])
        row["time_precision"] = TimePrecision(row["time_precision"])
        row["content_kind"] = ContentKind(row["content_kind"])
        row["platform"] = Platform(row["platform"])
        plays.append(Play(**row))
    return plays


@dataclass(frozen=True, slots=True)
class PlayBatch:
    """A block of plays from one file, already in the canonical Arrow shape."""

    file: str
    table: pa.Table

    @classmethod
    def from_plays(cls, file: str, plays: Sequence[Play]) -> PlayBatch:
        return cls(file, plays_to_table(plays))

    def __len__(self) -> int:
        return int(self.table.num_rows)


@dataclass(frozen=True, slots=True)
class Skipped:
    """Records deliberately not stored (now-playing rows, incognito plays, non-music rows), counted by reason."""

    file: str
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class Noted:
    """Records stored with something the listener should know about them (a name left out), counted by note."""

    file: str
    note: str
    count: int


class LibraryKind(StrEnum):
    TRACK = "track"
    ALBUM = "album"
    ARTIST = "artist"
    SHOW = "show"
    EPISODE = "episode"
    AUDIOBOOK = "audiobook"
    BANNED_TRACK = "banned_track"
    BANNED_ARTIST = "banned_artist"
    LOVED = "loved"
    HATED = "hated"


@dataclass(frozen=True, slots=True)
class LibraryItem:
    """Something the listener saved, followed, banned or rated (YourLibrary.json, ListenBrainz feedback)."""

    source: Source
    source_file: str
    kind: LibraryKind
    name: str | None
    artist: str | None = None
    album: str | None = None
    uri: str | None = None
    added_utc: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlaylistEntry:
    position: int
    track: str | None
    artist: str | None
    album: str | None
    uri: str | None
    content_kind: ContentKind
    added_date: str | None


@dataclass(frozen=True, slots=True)
class Playlist:
    source: Source
    source_file: str
    name: str
    last_modified: str | None
    description: str | None
    followers: int | None
    entries: tuple[PlaylistEntry, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class ServiceRecap:
    """A service's own yearly summary (Spotify's Wrapped20XX.json), kept verbatim for comparison."""

    source: Source
    source_file: str
    year: int
    raw_json: str


ImportItem = PlayBatch | ImportProblem | Skipped | Noted | LibraryItem | Playlist | ServiceRecap


def batches(file: str, plays: Iterable[Play], size: int = 50_000) -> Iterable[PlayBatch]:
    """Group Play records into PlayBatches of at most ``size``."""
    chunk: list[Play] = []
    for play in plays:
        chunk.append(play)
        if len(chunk) >= size:
            yield PlayBatch.from_plays(file, chunk)
            chunk = []
    if chunk:
        yield PlayBatch.from_plays(file, chunk)
