"""Uploaded files, saved under a scratch folder by their own names (made safe), within the server's size limit.

The names are hints only: importers decide by content what each file is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

from tutti.coop.errors import InvalidInput
from tutti.web.errors import UploadTooLarge

MAX_UPLOAD_BYTES = 512 * 1024**2
MAX_FILES = 200
# What the file picker offers; the importers read by content whatever the name says.
ACCEPTED_SUFFIXES = (".zip", ".json", ".csv", ".tsv", ".jsonl", ".txt")
_CHUNK = 1024**2
_UNSAFE = re.compile(r"[^\w.()+ -]+")


class NamedUpload(Protocol):
    @property
    def filename(self) -> str | None: ...

    @property
    def file(self) -> BinaryIO: ...


def safe_name(filename: str | None) -> str:
    """The file's base name, without folders, control characters or a leading dot."""
    base = re.split(r"[\\/]", filename or "")[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")[:200]
    return cleaned or "upload"


def save_uploads(files: Sequence[NamedUpload], folder: Path, *, max_bytes: int = MAX_UPLOAD_BYTES) -> list[Path]:
    """Write each upload to ``folder`` (names made unique); UploadTooLarge past ``max_bytes`` in total."""
    chosen = [f for f in files if f.filename]
    if not chosen:
        raise InvalidInput("choose at least one file to upload")
    if len(chosen) > MAX_FILES:
        raise InvalidInput(f"upload at most {MAX_FILES} files at once (or put them in one zip)")
    unread = [safe_name(f.filename) for f in chosen if not safe_name(f.filename).lower().endswith(ACCEPTED_SUFFIXES)]
    if unread:
        raise InvalidInput(f"{unread[0]}: not a file an export holds (those end in {', '.join(ACCEPTED_SUFFIXES)})")
    total = 0
    paths: list[Path] = []
    for upload in chosen:
        target = folder / safe_name(upload.filename)
        stem, suffix, n = target.stem, target.suffix, 1
        while target.exists():
            n += 1
            target = folder / f"{stem} ({n}){suffix}"
        with target.open("wb") as out:
            while chunk := upload.file.read(_CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise UploadTooLarge(
                        f"the upload is larger than the {max_bytes // 1024**2} MiB this server accepts"
                    )
                out.write(chunk)
        paths.append(target)
    return paths
