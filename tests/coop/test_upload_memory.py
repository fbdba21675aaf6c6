"""Zip bombs sent to the cooperative are refused by the validation job with memory that does not grow with
what they unpack to.

Each upload is sealed, stored and validated in a process of its own (``tests.helpers.upload_memory``), which
measures its peak resident memory before and after: the growth while a bomb is taken must stay under
``BOUND``, whether it unpacks to 20 GiB from its own directory, through a zip inside it, or lies about sizes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.helpers.zipbombs import lie_about_size, write_zero_bomb

MIB = 1024**2
# What validating a small export costs once warm is a few MiB; a bomb read whole would cost gigabytes.
BOUND = 64 * MIB


def _wrap(inner: Path, out: Path, compression: int) -> Path:
    with zipfile.ZipFile(out, "w", compression, allowZip64=True) as archive:
        archive.write(inner, f"my_spotify_data/{inner.name}")
    return out


def _bomb(kind: str, folder: Path) -> Path:
    twenty_gib = write_zero_bomb(folder / "my_spotify_data.zip", members=20, mib_each=1024)
    if kind == "20 GiB in one zip":
        return twenty_gib
    if kind == "20 GiB in a zip inside a deflated zip":
        return _wrap(twenty_gib, folder / "download.zip", zipfile.ZIP_DEFLATED)
    if kind == "20 GiB in a zip inside a stored zip":
        return _wrap(twenty_gib, folder / "download.zip", zipfile.ZIP_STORED)
    if kind == "1 GiB declared as 1,000 bytes a file":
        return lie_about_size(write_zero_bomb(folder / "my_spotify_data.zip", members=4, mib_each=256), 1000)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("20 GiB in one zip", r"Streaming_History_0\.json: is 1073741824 bytes unpacked, over the limit"),
        ("20 GiB in a zip inside a deflated zip", r"download\.zip!my_spotify_data/my_spotify_data\.zip: is compressed"),
        ("20 GiB in a zip inside a stored zip", r"my_spotify_data\.zip!Streaming_History_0\.json: is 1073741824 bytes"),
        ("1 GiB declared as 1,000 bytes a file", r"Streaming_History_0\.json: is damaged .*CRC"),
    ],
)
def test_a_zip_bomb_is_refused_with_bounded_memory(kind: str, reason: str, tmp_path: Path) -> None:
    bombs = tmp_path / "bombs"
    bombs.mkdir()
    bomb = _bomb(kind, bombs)
    assert bomb.stat().st_size < 24 * MIB
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTTI_")}  # the default limits
    done = subprocess.run(
        [sys.executable, "-m", "tests.helpers.upload_memory", str(bomb), str(tmp_path / "work")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert measured["status"] == "rejected"
    assert any(re.search(reason, r) for r in measured["reasons"]), measured["reasons"]
    assert measured["rss_growth"] < BOUND, f"{kind}: resident memory grew {measured['rss_growth'] / MIB:.0f} MiB"
    assert measured["traced_peak"] < BOUND, f"{kind}: Python allocated {measured['traced_peak'] / MIB:.0f} MiB"
    print(
        f"{kind} ({bomb.stat().st_size / MIB:.2f} MiB): rss +{measured['rss_growth'] / MIB:.1f} MiB, "
        f"traced peak {measured['traced_peak'] / MIB:.1f} MiB"
    )
