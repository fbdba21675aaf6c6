"""Zip, folder or single file: one way in, with limits, for every importer; and text in one encoding.

An export arrives as the service hands it out: ``my_spotify_data.zip``, the folder it unpacks to, single files,
or any of these inside another zip (a download of a download). ``open_export`` lists its files as ``Entry``
objects that importers read without caring which it was. Zip members are streamed; a zip inside a zip is
unpacked to an unnamed temporary file, never into memory.

Limits (``tutti.settings.ArchiveLimits``: files, bytes per file and in all, compression ratio, nesting) are
checked from each zip's directory before anything is unpacked, and summed across nesting; a member cannot
unpack to more than its declared size. A member is read whole by the importers, so the per-file limit bounds
the memory reading takes. Each refusal names the zip and the member.

Every ``Entry`` hands out UTF-8 without a byte-order mark: a UTF-8 BOM is dropped and UTF-16 text (what some
spreadsheet programs save as "Unicode text") is re-encoded, here and only here, so no importer has to know.
A file-system error (a path that vanished, a file that cannot be opened) becomes an ``ExportError`` naming it.
"""

from __future__ import annotations

import codecs
import hashlib
import tempfile
import weakref
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tutti.errors import ExportError
from tutti.settings import ArchiveLimits

HEAD_BYTES = 4096
SPOOL_CHUNK = 1024**2
# Small files may compress as well as they like (a JSON array of one repeated record); only larger ones are
# held to the ratio limit.
RATIO_FLOOR = 1024**2
# zipfile inflates bzip2 and LZMA members without a bound per read: a few bytes of either can unpack to
# gigabytes before the declared size cuts them. Exports are deflated (or stored).
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_DAMAGED = (OSError, zipfile.BadZipFile, EOFError, zlib.error)
_IGNORED_NAMES = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _utf16_codec(head: bytes) -> str | None:
    """``utf-16`` when the bytes start with a UTF-16 BOM; ``utf-16-le``/``-be`` for BOM-less ASCII-led text."""
    if head.startswith(_UTF16_BOMS):
        return "utf-16"
    pairs = head[:16]
    if len(pairs) >= 8 and len(pairs) % 2 == 0:
        even, odd = pairs[0::2], pairs[1::2]
        if not any(odd) and all(0x09 <= b < 0x7F for b in even):
            return "utf-16-le"
        if not any(even) and all(0x09 <= b < 0x7F for b in odd):
            return "utf-16-be"
    return None


def _as_utf8(data: bytes, path: str, *, partial: bool = False) -> bytes:
    """The bytes as UTF-8 without a BOM; ``partial`` for a file's head, which may end inside a character."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :]
    codec = _utf16_codec(data)
    if codec is None:
        return data
    try:
        text = data[: len(data) // 2 * 2].decode(codec, errors="ignore" if partial else "strict")
    except UnicodeDecodeError as exc:
        raise ExportError(path, f"is UTF-16 text with an invalid character at byte {exc.start}") from exc
    return text.encode("utf-8")


@dataclass(frozen=True)
class Entry:
    """One file of an export. ``path`` is what the user sees ("export.zip!MyData/StreamingHistory0.json")."""

    path: str
    name: str
    size: int
    _open: Callable[[], IO[bytes]] = field(repr=False)

    def open(self) -> IO[bytes]:
        """The raw bytes, as stored (``read_bytes`` and ``head`` give them as UTF-8)."""
        try:
            return self._open()
        except (*_DAMAGED, RuntimeError) as exc:
            raise ExportError(self.path, f"cannot be read ({_said(exc)})") from exc

    def _read(self, n: int = -1) -> bytes:
        # Never ``read()`` without a size: zipfile would inflate a member's every compressed byte in one call
        # before cutting at the declared size. In chunks, a member whose headers lie costs one chunk more.
        want = self.size if n < 0 else n
        parts: list[bytes] = []
        with self.open() as fp:
            try:
                while want > 0 and (chunk := fp.read(min(SPOOL_CHUNK, want))):
                    parts.append(chunk)
                    want -= len(chunk)
            except _DAMAGED as exc:
                raise ExportError(self.path, f"is damaged and cannot be read ({_said(exc)})") from exc
        return b"".join(parts)

    def read_bytes(self) -> bytes:
        """The whole file, as UTF-8 when it is text in another Unicode encoding."""
        return _as_utf8(self._read(), self.path)

    def head(self, n: int = HEAD_BYTES) -> bytes:
        """The first bytes, for telling formats apart (as UTF-8, like ``read_bytes``)."""
        return _as_utf8(self._read(n), self.path, partial=True)

    def read_text(self) -> str:
        """The whole file as text; a clear error names the first byte that is not UTF-8."""
        data = self.read_bytes()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise ExportError(
                self.path,
                f"is not UTF-8 text (byte {exc.start}, line {line}: {data[exc.start : exc.start + 1]!r})",
            ) from exc

    def digest(self) -> str:
        """SHA-256 of the raw bytes: two entries with one digest are the same file reached twice."""
        sha = hashlib.sha256()
        with self.open() as fp:
            try:
                while chunk := fp.read(1 << 20):
                    sha.update(chunk)
            except _DAMAGED as exc:
                raise ExportError(self.path, f"is damaged and cannot be read ({_said(exc)})") from exc
        return sha.hexdigest()

    @property
    def basename(self) -> str:
        return self.name.rsplit("/", 1)[-1]


def _said(exc: BaseException) -> str:
    """An OS error in words ("Permission denied"), without the errno and path Python adds."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def _is_ignored(name: str) -> bool:
    return any(part in name for part in _IGNORED_NAMES) or name.rsplit("/", 1)[-1].startswith("._")


class _Spooled:
    """A zip found inside a zip, unpacked to an unnamed temporary file (never held in memory): the file has no
    name from the start, so nothing is left behind however the process ends, and it is closed (and so gone)
    once no entry needs it any more."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        weakref.finalize(self, file.close)


_Source = Path | _Spooled


def _zip_file(source: _Source) -> zipfile.ZipFile:
    return zipfile.ZipFile(source if isinstance(source, Path) else source.file)


def _member_opener(source: _Source, member: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
    def open_member() -> IO[bytes]:
        # The archive is opened per read; the member keeps the file open until it is closed itself. It is
        # opened by its directory record, not its name: a zip may hold two members of one name. Reading stops
        # at the size the directory declares (``zipfile`` cuts there and then checks the CRC), so a member
        # whose headers lie cannot unpack to more than was checked.
        archive = _zip_file(source)
        try:
            return archive.open(member)
        finally:
            archive.close()

    return open_member


@dataclass
class _Budget:
    """What one export may hold in all, nested zips included."""

    limits: ArchiveLimits
    entries: int = 0
    total: int = 0

    def spend(self, label: str, entries: int, size: int) -> None:
        self.entries += entries
        self.total += size
        if self.entries > self.limits.max_files:
            raise ExportError(label, f"holds more than the {self.limits.max_files} files an export can have")
        if self.total > self.limits.max_total_bytes:
            raise ExportError(label, f"unpacks to more than the limit of {self.limits.max_total_bytes} bytes")

    def check_file(self, label: str, size: int) -> None:
        if size > self.limits.max_file_bytes:
            raise ExportError(
                label, f"is {size} bytes unpacked, over the limit of {self.limits.max_file_bytes} per file"
            )

    def check_directory(self, label: str, infos: list[zipfile.ZipInfo]) -> None:
        """Refuse a zip from its directory alone, before a byte is unpacked: sizes, counts, ratio, method."""
        for info in infos:
            name = f"{label}!{info.filename}"
            if info.compress_type not in _METHODS:
                raise ExportError(name, f"is packed with compression method {info.compress_type}; exports use deflate")
            self.check_file(name, info.file_size)
            ratio = info.file_size // max(info.compress_size, 1)
            if info.file_size > RATIO_FLOOR and ratio > self.limits.max_ratio:
                raise ExportError(
                    name,
                    f"is compressed {ratio} to 1, more than the {self.limits.max_ratio} to 1 allowed (exports "
                    "compress about 10 to 1)",
                )
        self.spend(label, len(infos), sum(i.file_size for i in infos))


def _is_zip(info: zipfile.ZipInfo, archive: zipfile.ZipFile) -> bool:
    if info.filename.lower().endswith(".zip"):
        return True
    try:
        with archive.open(info) as fp:
            return fp.read(4) == b"PK\x03\x04"
    except _DAMAGED:
        return False  # a damaged member is named when an importer reads it


def _spool(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, spool: Path | None) -> _Spooled:
    """The member unpacked, a chunk at a time, to an unnamed file in ``spool`` (the system's temporary folder
    when None)."""
    out = tempfile.TemporaryFile(dir=spool)  # noqa: SIM115 -- outlives this function, closed by _Spooled
    try:
        with archive.open(info) as fp:
            while chunk := fp.read(SPOOL_CHUNK):
                out.write(chunk)
        out.seek(0)
    except _DAMAGED as exc:
        out.close()
        raise ExportError(label, f"is damaged and cannot be read ({_said(exc)})") from exc
    except BaseException:
        out.close()
        raise
    return _Spooled(out)


def _zip_entries(label: str, source: _Source, depth: int, budget: _Budget, spool: Path | None) -> Iterator[Entry]:
    try:
        with _zip_file(source) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir() and not _is_ignored(i.filename)]
            budget.check_directory(label, infos)
            zips = [i for i in infos if _is_zip(i, archive)]
            if zips and depth >= budget.limits.max_nesting:
                raise ExportError(label, f"holds zips nested more than {budget.limits.max_nesting} deep")
            nested = {id(i): _spool(archive, i, f"{label}!{i.filename}", spool) for i in zips}
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError) as exc:
        raise ExportError(label, f"is not a readable zip archive ({exc})") from exc
    except OSError as exc:
        raise ExportError(label, f"cannot be read ({_said(exc)})") from exc
    seen: dict[str, int] = {}
    for info in infos:
        seen[info.filename] = seen.get(info.filename, 0) + 1
        # A second member of one name is still a file of its own; its path says which one it is.
        inner = f"{label}!{info.filename}" + (f"#{seen[info.filename]}" if seen[info.filename] > 1 else "")
        if id(info) in nested:
            yield from _zip_entries(inner, nested[id(info)], depth + 1, budget, spool)
        else:
            yield Entry(inner, info.filename, info.file_size, _member_opener(source, info))


def _file_entry(path: Path, name: str, budget: _Budget) -> Entry:
    size = path.stat().st_size
    budget.check_file(str(path), size)
    budget.spend(str(path), 1, size)
    return Entry(str(path), name, size, lambda: path.open("rb"))


def _looks_like_zip(path: Path) -> bool:
    with path.open("rb") as fp:
        return fp.read(4) == b"PK\x03\x04"


def _folder_entries(path: Path, budget: _Budget, spool: Path | None) -> Iterator[Entry]:
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        if _is_ignored(rel):
            continue
        try:
            if file.suffix.lower() == ".zip" or _looks_like_zip(file):
                yield from _zip_entries(str(file), file, 1, budget, spool)
            else:
                yield _file_entry(file, rel, budget)
        except OSError as exc:
            raise ExportError(str(file), f"cannot be read ({_said(exc)})") from exc


def open_export(path: Path, *, limits: ArchiveLimits | None = None, spool: Path | None = None) -> list[Entry]:
    """List the files of an export given as a zip, a folder (searched recursively) or one file.

    ``limits`` (default: the settings in the environment) are checked from each zip's directory before
    anything is unpacked, and across nested zips; zips inside zips are unpacked to unnamed files in ``spool``
    (default: the system's temporary folder), which go when the entries do.
    """
    budget = _Budget(limits or ArchiveLimits.from_env())
    try:
        if not path.exists():
            raise ExportError(str(path), "does not exist")
        if path.is_dir():
            return list(_folder_entries(path, budget, spool))
        if path.suffix.lower() == ".zip" or _looks_like_zip(path):
            return list(_zip_entries(str(path), path, 1, budget, spool))
        return [_file_entry(path, path.name, budget)]
    except OSError as exc:
        raise ExportError(str(exc.filename or path), f"cannot be read ({_said(exc)})") from exc
