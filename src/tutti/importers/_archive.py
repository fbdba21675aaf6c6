"""Zip, folder or single file: one way in, with limits, for every importer.

An export arrives as the service hands it out: ``my_spotify_data.zip``, the folder it unpacks to, or single
files. ``open_export`` lists its files as ``Entry`` objects that importers read without caring which it was.
Nothing is extracted to disk; zip members are streamed.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tutti.errors import ExportError

MAX_ENTRIES = 20_000
MAX_ENTRY_BYTES = 2 * 1024**3
MAX_TOTAL_BYTES = 16 * 1024**3
HEAD_BYTES = 4096
_DAMAGED = (OSError, zipfile.BadZipFile, EOFError, zlib.error)
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
        except (*_DAMAGED, RuntimeError) as exc:
            raise ExportError(self.path, f"cannot be read ({exc})") from exc

    def read_bytes(self) -> bytes:
        with self.open() as fp:
            try:
                return fp.read()
            except _DAMAGED as exc:
                raise ExportError(self.path, f"is damaged and cannot be read ({exc})") from exc

    def head(self, n: int = HEAD_BYTES) -> bytes:
        with self.open() as fp:
            try:
                return fp.read(n)
            except _DAMAGED as exc:
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


def _member_opener(source: Path | bytes, member: str) -> Callable[[], IO[bytes]]:
    def open_member() -> IO[bytes]:
        # The archive is opened per read; the member keeps the file open until it is closed itself.
        archive = zipfile.ZipFile(source if isinstance(source, Path) else io.BytesIO(source))
        try:
            return archive.open(member)
        finally:
            archive.close()

    return open_member


def _zip_entries(label: str, source: Path | bytes, depth: int) -> Iterator[Entry]:
    try:
        with zipfile.ZipFile(source if isinstance(source, Path) else io.BytesIO(source)) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir() and not _is_ignored(i.filename)]
            nested = {
                i.filename: archive.read(i)
                for i in infos
                if i.filename.lower().endswith(".zip") and depth < 1 and i.file_size <= MAX_ENTRY_BYTES
            }
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ExportError(label, f"is not a readable zip archive ({exc})") from exc
    if len(infos) > MAX_ENTRIES:
        raise ExportError(label, f"holds {len(infos)} files, more than the {MAX_ENTRIES} an export can have")
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_BYTES:
        raise ExportError(label, f"unpacks to {total} bytes, more than the limit of {MAX_TOTAL_BYTES}")
    for info in infos:
        inner = f"{label}!{info.filename}"
        if info.file_size > MAX_ENTRY_BYTES:
            raise ExportError(inner, f"is {info.file_size} bytes, over the per-file limit")
        if info.filename in nested:
            yield from _zip_entries(inner, nested[info.filename], depth + 1)
        else:
            yield Entry(inner, info.filename, info.file_size, _member_opener(source, info.filename))


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
                entries.extend(_zip_entries(str(file), file, 0))
            else:
                entries.append(_file_entry(file, rel))
            if len(entries) > MAX_ENTRIES:
                raise ExportError(str(path), f"holds more than the {MAX_ENTRIES} files an export can have")
        return entries
    if path.suffix.lower() == ".zip" or _looks_like_zip(path):
        return list(_zip_entries(str(path), path, 0))
    return [_file_entry(path, path.name)]
