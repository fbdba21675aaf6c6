"""Every real sample file is claimed by the right importer, and only personal or foreign files are left."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import samples_path
from tutti.importers._archive import open_export
from tutti.importers.detect import detect

EXPECTED = {
    "spotify-extended": "spotify_extended",
    "spotify-account": "spotify_account",
    "lastfm": "lastfm",
    "listenbrainz": "listenbrainz",
    "apple-music": "apple_music",
    "youtube-music": "youtube_music",
}


@pytest.mark.samples
def test_each_sample_file_is_claimed_by_its_format() -> None:
    root = samples_path()
    found = detect(open_export(root))
    claimed = {
        Path(entry.path).relative_to(root).as_posix(): importer.NAME
        for importer, entries in found.claims
        for entry in entries
    }
    for path, name in claimed.items():
        assert EXPECTED[path.split("/", 1)[0]] == name, path
    unread = {Path(u.path).relative_to(root).as_posix(): u.reason for u in found.unread}
    assert unread.pop("FORMATS.md").startswith("not a listening-history file")
    assert all(reason == "personal data, never read" for reason in unread.values()), unread
    listening = [p for p in claimed if "StreamingHistory" in p or p.split("/", 1)[0] != "spotify-account"]
    assert len(listening) >= 40
