"""Zip, folder or single file: one way in, with limits, for every importer.

An export arrives as the service hands it out: ``my_spotify_data.zip``, the folder it unpacks to, or single
files. ``open_export`` lists its files as ``Entry`` objects that importers read without caring which it was.
Nothing is extracted to disk; zip members are streamed.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tutti.errors import ExportError

MAX_ENTRIES = 20_000
MAX_ENTRY_BYTES = 2 * 1024**3
MAX_TOTAL_BYTES = 16 * 1024**3
HEAD_BYTES = 4096
_IGNORED_NAMES = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")


@dataclass(frozen=True)
class Entry:
    """One file of an export. ``path`` is what the user sees ("export.zip!MyData/StreamingHistory0.json")."""

    path: str
    name: str
    size: int
    _open: Callable[[], IO[bytes]]

    def open(self) -> IO[bytes]:
        try:
            return self._open()
        except (OSError, zipfile.BadZipFile, RuntimeError) as exc:
            raise ExportError(self.path, f"cannot be read ({exc})") from exc

    def read_bytes(self) -> bytes:
        with self.open() as fp:
            try:
                return fp.read()
            except (OSError, zipfile.BadZipFile, EOFError) as exc:
                raise ExportError(self.path, f"is damaged and cannot be read ({exc})") from exc

    def head(self, n: int = HEAD_BYTES) -> bytes:
        with self.open() as fp:
            try:
                return fp.read(n)
            except (OSError, zipfile.BadZipFile, EOFError) as exc:
                raise ExportError(self.path, f"is damaged and cannot be read ({exc})") from exc

    def read_text(self) -> str:
        """The whole file as UTF-8 text (a BOM is dropped); a clear error names the first bad byte."""
        data = self.read_bytes()
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise ExportError(
                self.path,
                f"is not UTF-8 text (byte {exc.start}, line {line}: {data[exc.start : exc.start + 1]!r})",
            ) from exc

    @property
    def basename(self) -> str:
        return self.name.rsplit("/", 1)[-1]


def _is_ignored(name: str) -> bool:
    return any(part in name for part in _IGNORED_NAMES) or name.rsplit("/", 1)[-1].startswith("._")


def _zip_entries(label: str, opener: Callable[[], IO[bytes]], depth: int) -> Iterator[Entry]:
    try:
        archive = zipfile.ZipFile(opener())
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ExportError(label, f"is not a readable zip archive ({exc})") from exc
    infos = [i for i in archive.infolist() if not i.is_dir() and not _is_ignored(i.filename)]
    if len(infos) > MAX_ENTRIES:
        raise ExportError(label, f"holds {len(infos)} files, more than the {MAX_ENTRIES} an export can have")
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_BYTES:
        raise ExportError(label, f"unpacks to {total} bytes, more than the limit of {MAX_TOTAL_BYTES}")
    for info in infos:
        if info.file_size > MAX_ENTRY_BYTES:
            raise ExportError(f"{label}!{info.filename}", f"is {info.file_size} bytes, over the per-file limit")

        def open_member(info: zipfile.ZipInfo = info) -> IO[bytes]:
            return archive.open(info)

        inner = f"{label}!{info.filename}"
        if info.filename.lower().endswith(".zip") and depth < 1:
            data = archive.read(info)
            yield from _zip_entries(inner, lambda data=data: io.BytesIO(data), depth + 1)  # type: ignore[misc]
        else:
            yield Entry(inner, info.filename, info.file_size, open_member)


def _file_entry(path: Path, name: str) -> Entry:
    return Entry(str(path), name, path.stat().st_size, lambda: path.open("rb"))


def _looks_like_zip(path: Path) -> bool:
    with path.open("rb") as fp:
        return fp.read(4) == b"PK\x03\x04"


def open_export(path: Path) -> list[Entry]:
    """List the files of an export given as a zip, a folder (searched recursively) or one file."""
    if not path.exists():
        raise ExportError(str(path), "does not exist")
    if path.is_dir():
        entries: list[Entry] = []
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            rel = file.relative_to(path).as_posix()
            if _is_ignored(rel):
                continue
            if file.suffix.lower() == ".zip" or _looks_like_zip(file):
                entries.extend(_zip_entries(str(file), lambda file=file: file.open("rb"), 0))  # type: ignore[misc]
            else:
                entries.append(_file_entry(file, rel))
            if len(entries) > MAX_ENTRIES:
                raise ExportError(str(path), f"holds more than the {MAX_ENTRIES} files an export can have")
        return entries
    if path.suffix.lower() == ".zip" or _looks_like_zip(path):
        return list(_zip_entries(str(path), lambda: path.open("rb"), 0))
    return [_file_entry(path, path.name)]
