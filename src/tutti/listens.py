"""Tutti's exchange format: one play as a ListenBrainz *listen*, one JSON object per line. Version 1.

Every export that leaves Tutti with plays in it writes this shape: ``tutti export --format jsonl`` from the local
store, and the ``plays.jsonl`` of a cooperative member's data export. ListenBrainz reads it, and so does Tutti's own
ListenBrainz importer, so a listener can take their plays anywhere and bring them back.

A listen is ``{"listened_at": <unix seconds of the play's start, else its end>, "track_metadata": {...}}`` with
``artist_name``, ``track_name``, ``release_name`` (when known) and ``additional_info`` holding what ListenBrainz has
no field for: ``submission_client`` ("tutti") and ``submission_client_version`` (this format's version), the
``music_service`` (the source export), ``duration_ms``, ``ms_played``, ``recording_mbid``, ``artist_mbids``,
``release_mbid``, ``isrc``, ``spotify_id``, ``tutti_play_id`` (``tutti.identity``), ``content_kind``, ``platform``,
``reason_start``, ``reason_end``, ``shuffle``, ``skipped``, ``offline`` and ``end_utc`` (ISO 8601); fields without a
value are left out. Nothing identifying is in a play, so nothing identifying is in a listen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LISTEN_FORMAT_VERSION = 1


def to_listen(play: Mapping[str, Any]) -> dict[str, Any]:
    """One play (a row with ``play_id`` and the columns of ``tutti.model.PLAY_SCHEMA``) as a listen."""
    when = play["start_utc"] or play["end_utc"]
    info: dict[str, Any] = {
        "submission_client": "tutti",
        "submission_client_version": str(LISTEN_FORMAT_VERSION),
        "music_service": play["source"],
        "duration_ms": play["duration_ms"],
        "ms_played": play["ms_played"],
        "recording_mbid": play["recording_mbid"],
        "artist_mbids": [play["artist_mbid"]] if play["artist_mbid"] else None,
        "release_mbid": play["release_mbid"],
        "isrc": play["isrc"],
        "spotify_id": play["spotify_uri"],
        "tutti_play_id": play["play_id"],
        "content_kind": play["content_kind"],
        "platform": play["platform"],
        "reason_start": play["reason_start"],
        "reason_end": play["reason_end"],
        "shuffle": play["shuffle"],
        "skipped": play["skipped"],
        "offline": play["offline"],
        "end_utc": play["end_utc"].isoformat() if play["end_utc"] else None,
    }
    metadata: dict[str, Any] = {
        "artist_name": play["artist"],
        "track_name": play["track"],
        "additional_info": {k: v for k, v in info.items() if v is not None},
    }
    if play["album"]:
        metadata["release_name"] = play["album"]
    return {"listened_at": int(when.timestamp()) if when else None, "track_metadata": metadata}
