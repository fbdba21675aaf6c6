"""A store file that cannot be read is one clear error naming it, however it was damaged."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import DATA
from tutti.errors import StoreError
from tutti.settings import STORE_FILE
from tutti.store import open_store
from tutti.store.ingest import import_paths


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("stored")
    with open_store(home) as store:
        import_paths(store, "me", [DATA / "spotify_extended", DATA / "lastfm" / "no_header_with_now_playing.csv"])
    return home / STORE_FILE


def _damaged_copy(stored: Path, home: Path, keep: float) -> Path:
    home.mkdir()
    shutil.copy(stored, home / STORE_FILE)
    os.truncate(home / STORE_FILE, int(stored.stat().st_size * keep))
    return home


@pytest.mark.parametrize("keep", [0.0, 0.05, 0.3, 0.5, 0.9, 0.999])
def test_a_store_file_cut_short_is_a_store_error_naming_it(stored: Path, tmp_path: Path, keep: float) -> None:
    home = _damaged_copy(stored, tmp_path / "home", keep)
    with pytest.raises(StoreError, match=f"^{home / STORE_FILE}: ") as info, open_store(home) as store:
        store.profiles()
        store.con.execute("SELECT sum(ms_played), max(track) FROM plays").fetchall()
    assert "\n" not in str(info.value)


def test_random_bytes_are_no_store(tmp_path: Path) -> None:
    (tmp_path / STORE_FILE).write_bytes(os.urandom(10_000))
    with pytest.raises(StoreError, match="cannot open the store"):
        open_store(tmp_path)
