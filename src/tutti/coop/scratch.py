"""Private scratch folders under the cooperative's data folder, for files that must exist only while a request
or a job works on them (uploads being saved, sealed uploads being checked).

Each folder is made with mode 0700 under ``scratch/`` of the data folder and removed when its work ends. A
process that dies leaves its folder behind; housekeeping (``tutti.coop.jobs.housekeeping``) removes folders
older than an hour (a job's own while it runs excepted), which is why they are here and not in the system's
temporary folder. A job's folder is named ``job-<id>-...``, so its next attempt can remove what a dead one left.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tutti.coop.settings import CoopSettings

SCRATCH_DIR = "scratch"


def scratch_root(settings: CoopSettings) -> Path:
    return settings.data_dir / SCRATCH_DIR


@contextmanager
def scratch_folder(settings: CoopSettings, prefix: str) -> Iterator[Path]:
    """A new private folder, removed with everything in it when the block ends (however it ends)."""
    root = scratch_root(settings)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=root))  # mkdtemp makes it 0700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
