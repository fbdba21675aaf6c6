"""The non-play files of Spotify account data: ``YourLibrary.json``, ``Playlist*.json``, ``Wrapped20XX.json``.

A helper of ``spotify_account`` (which claims these files), not an importer of its own. Old exports give
names only; newer ones add a Spotify URI to every item, ``artists``/``bannedArtists`` to the library and
``addedDate`` to playlist items. An item that cannot be read becomes an ImportProblem naming its place
("tracks[3]", "playlist 2 item 7"); a file whose overall shape is wrong raises ExportError.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from tutti.errors import ExportError
from tutti.importers._archive import Entry
from tutti.importers._json import load_json
from tutti.model import (
    ContentKind,
    ImportProblem,
    LibraryItem,
    LibraryKind,
    Playlist,
    PlaylistEntry,
    ProblemKind,
    RecordRefused,
    ServiceRecap,
    Skipped,
    Source,
)


def _text(body: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    """The first of ``keys`` that holds non-empty text; empty strings count as absent."""
    for key in keys:
        value = body.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise RecordRefused(ProblemKind.WRONG_TYPE, f"{key} should be text, not {type(value).__name__}")
        return value
    return None


def _load_object(entry: Entry) -> dict[str, Any]:
    value = load_json(entry)
    if not isinstance(value, dict):
        raise ExportError(entry.path, f"should hold a JSON object, not {type(value).__name__}")
    return value


@dataclass(frozen=True)
class _LibraryList:
    kind: LibraryKind
    name: tuple[str, ...]
    artist: tuple[str, ...] = ()
    album: tuple[str, ...] = ()


# Banned items were empty in every sample; they are read like their saved counterparts.
_LIBRARY_LISTS: dict[str, _LibraryList] = {
    "tracks": _LibraryList(LibraryKind.TRACK, ("track",), ("artist",), ("album",)),
    "albums": _LibraryList(LibraryKind.ALBUM, ("album",), ("artist",)),
    "shows": _LibraryList(LibraryKind.SHOW, ("name",), ("publisher",)),
    "episodes": _LibraryList(LibraryKind.EPISODE, ("name",), ("show",)),
    "artists": _LibraryList(LibraryKind.ARTIST, ("name", "artist")),
    "bannedTracks": _LibraryList(LibraryKind.BANNED_TRACK, ("track", "name"), ("artist",), ("album",)),
    "bannedArtists": _LibraryList(LibraryKind.BANNED_ARTIST, ("name", "artist")),
}


def read_library(entry: Entry) -> Iterator[LibraryItem | ImportProblem | Skipped]:
    """Saved tracks, albums, artists, shows and episodes, and banned tracks and artists."""
    library = _load_object(entry)
    for key, items in library.items():
        if not isinstance(items, list):
            raise ExportError(entry.path, f'"{key}" should be a list, not {type(items).__name__}')
        shape = _LIBRARY_LISTS.get(key)
        if shape is None:
            # "other" was empty in every sample; with its shape unknown, entries are counted, not guessed.
            if items:
                yield Skipped(entry.path, f'"{key}" entries of the library are not read', len(items))
            continue
        for index, item in enumerate(items):
            try:
                if not isinstance(item, dict):
                    raise RecordRefused(ProblemKind.UNREADABLE, f"should be an object, not {type(item).__name__}")
                name = _text(item, shape.name)
                if name is None:
                    raise RecordRefused(ProblemKind.MISSING_FIELD, "has no name")
                yield LibraryItem(
                    source=Source.SPOTIFY_ACCOUNT,
                    source_file=entry.path,
                    kind=shape.kind,
                    name=name,
                    artist=_text(item, shape.artist),
                    album=_text(item, shape.album),
                    uri=_text(item, ("uri",)),
                )
            except RecordRefused as refused:
                yield refused.at(entry.path, f"{key}[{index}]")


@dataclass(frozen=True)
class _ItemShape:
    key: str
    kind: ContentKind
    track: tuple[str, ...]
    artist: tuple[str, ...]
    album: tuple[str, ...]
    uri: tuple[str, ...]


# An item fills exactly one of these keys. Audiobook and local-track bodies were null in every sample; the
# names tried for them follow the streaming files (chapter = track, book = album, author = artist).
_ITEM_SHAPES = (
    _ItemShape("track", ContentKind.MUSIC, ("trackName",), ("artistName",), ("albumName",), ("trackUri",)),
    _ItemShape("episode", ContentKind.PODCAST, ("episodeName",), ("showName",), (), ("episodeUri",)),
    _ItemShape(
        "audiobook",
        ContentKind.AUDIOBOOK,
        ("chapterName",),
        ("authorName",),
        ("audiobookName", "name"),
        ("audiobookUri", "uri"),
    ),
    _ItemShape("localTrack", ContentKind.MUSIC, ("trackName",), ("artistName",), ("albumName",), ("trackUri", "uri")),
)


def _local_names(uri: str | None) -> tuple[str | None, str | None, str | None]:
    """(track, artist, album) from "spotify:local:<artist>:<album>:<track>:<seconds>", URL-encoded."""
    if not uri or not uri.startswith("spotify:local:"):
        return None, None, None
    parts = [unquote_plus(p) or None for p in uri.split(":")[2:]]
    if len(parts) < 3:
        return None, None, None
    return parts[2], parts[0], parts[1]


def _playlist_entry(position: int, item: Any) -> PlaylistEntry:
    if not isinstance(item, dict):
        raise RecordRefused(ProblemKind.UNREADABLE, f"should be an object, not {type(item).__name__}")
    added = _text(item, ("addedDate",))
    for shape in _ITEM_SHAPES:
        body = item.get(shape.key)
        if body is None:
            continue
        if not isinstance(body, dict):
            raise RecordRefused(ProblemKind.WRONG_TYPE, f"{shape.key} should be an object, not {type(body).__name__}")
        track, artist, album = _text(body, shape.track), _text(body, shape.artist), _text(body, shape.album)
        uri = _text(body, shape.uri)
        if shape.key == "localTrack" and track is None:
            track, artist, album = _local_names(uri)
        return PlaylistEntry(position, track, artist, album, uri, shape.kind, added)
    # Nothing filled in (content since removed from Spotify): kept so positions stay those of the export.
    return PlaylistEntry(position, None, None, None, None, ContentKind.UNKNOWN, added)


def read_playlists(entry: Entry) -> Iterator[Playlist | ImportProblem]:
    """The listener's playlists; descriptions arrive HTML-escaped ("&amp;") and are unescaped."""
    playlists = _load_object(entry).get("playlists")
    if not isinstance(playlists, list):
        raise ExportError(entry.path, '"playlists" should be a list of playlists')
    for number, raw in enumerate(playlists):
        where = f"playlist {number}"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            yield ImportProblem(entry.path, where, ProblemKind.UNREADABLE, "is not a playlist with a name")
            continue
        items = raw.get("items") or []
        if not isinstance(items, list):
            yield ImportProblem(entry.path, where, ProblemKind.WRONG_TYPE, "items is not a list")
            continue
        entries: list[PlaylistEntry] = []
        for position, item in enumerate(items):
            try:
                entries.append(_playlist_entry(position, item))
            except RecordRefused as refused:
                yield refused.at(entry.path, f"{where} item {position}")
        try:
            description = _text(raw, ("description",))
            modified = _text(raw, ("lastModifiedDate",))
        except RecordRefused as refused:
            yield refused.at(entry.path, where)
            continue
        followers = raw.get("numberOfFollowers")
        yield Playlist(
            source=Source.SPOTIFY_ACCOUNT,
            source_file=entry.path,
            name=raw["name"],
            last_modified=modified,
            description=html.unescape(description) if description else None,
            followers=followers if isinstance(followers, int) and not isinstance(followers, bool) else None,
            entries=tuple(entries),
        )


_YEAR_IN_NAME = re.compile(r"Wrapped(\d{4})", re.IGNORECASE)
_YEAR_IN_DATE = re.compile(r"(\d{4})-\d\d-\d\d")


def read_recap(entry: Entry) -> ServiceRecap | ImportProblem:
    """A Wrapped recap, kept verbatim; its year comes from the file name, else from its most-listened day."""
    recap = _load_object(entry)
    year_match = _YEAR_IN_NAME.search(entry.basename)
    if year_match is None:
        metrics = recap.get("yearlyMetrics")
        day = metrics.get("mostListenedDay") if isinstance(metrics, dict) else None
        year_match = _YEAR_IN_DATE.fullmatch(day) if isinstance(day, str) else None
    if year_match is None:
        reason = "cannot tell which year this Wrapped recap covers"
        return ImportProblem(entry.path, "whole file", ProblemKind.MISSING_FIELD, reason)
    return ServiceRecap(Source.SPOTIFY_ACCOUNT, entry.path, int(year_match.group(1)), entry.read_text())
