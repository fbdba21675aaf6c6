"""Fonts for the share cards, and text drawn with them.

DejaVu Sans ships with the package (see LICENSE here). Scripts it lacks (CJK, Thai, ...) come from fonts found
on the system. Text is cut into runs, each drawn with the first font whose character map covers it: the shipped
font first, then system fonts (sans before serif before monospaced, the closest weight first). A character no
font covers is drawn as U+FFFD and reported, never as an empty box.
"""

from __future__ import annotations

import os
import struct
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont, TTLibError
from PIL import ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
SHIPPED = {False: HERE / "DejaVuSans.ttf", True: HERE / "DejaVuSans-Bold.ttf"}
REPLACEMENT = "\ufffd"
Fill = int | str | tuple[int, ...]  # what Pillow takes: a grey level, a colour name or a tuple
_EXTENSIONS = {".ttf", ".otf", ".ttc", ".otc"}
# Invisible characters (joiners, variation selectors, direction marks): dropped when no font has them.
_IGNORABLE = {"Cc", "Cf", "Zl", "Zp"}


def system_font_dirs() -> list[Path]:
    """Folders where fonts are installed on Linux, macOS and Windows (only those that exist)."""
    home = Path.home()
    dirs = [
        Path("/usr/share/fonts"),
        Path("/usr/local/share/fonts"),
        home / ".fonts",
        home / ".local/share/fonts",
        Path("/Library/Fonts"),
        Path("/System/Library/Fonts"),
        home / "Library/Fonts",
        Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts",
    ]
    if sys.platform == "win32" and (local := os.environ.get("LOCALAPPDATA")):
        dirs.append(Path(local) / "Microsoft/Windows/Fonts")
    return [d for d in dirs if d.is_dir()]


@dataclass(frozen=True)
class Face:
    """One font face: a file, and its number inside a .ttc collection."""

    path: Path
    index: int
    name: str
    weight: int
    italic: bool


@dataclass(frozen=True)
class Run:
    text: str
    face: Face | None  # None: no font covers it; ``text`` is then REPLACEMENT characters


# Whatever a damaged or unusual font file may raise while it is read: such a file is skipped.
_UNREADABLE = (TTLibError, OSError, KeyError, IndexError, AttributeError, AssertionError, ValueError, struct.error)


@contextmanager
def _opened(path: Path) -> Iterator[list[TTFont]]:
    """The fonts in a file, readable until the block ends; the file is closed then, whatever happened."""
    try:
        file = path.open("rb")
    except OSError:
        yield []
        return
    with file:
        try:
            collection = path.suffix.lower() in {".ttc", ".otc"}
            fonts = list(TTCollection(file, lazy=True).fonts) if collection else [TTFont(file, lazy=True)]
        except _UNREADABLE:
            fonts = []
        yield fonts


@cache
def _faces_in(path: Path) -> tuple[Face, ...]:
    """The usable faces of a font file (names and weights only; character maps are read on demand)."""
    faces = []
    with _opened(path) as fonts:
        for index, font in enumerate(fonts):
            try:
                # Colour bitmap fonts (emoji) load in Pillow only at their one pixel size: not usable here.
                if "CBDT" in font or "sbix" in font or "cmap" not in font:
                    continue
                name = str(font["name"].getDebugName(4) or path.stem)
                os2 = font.get("OS/2")
                weight = int(os2.usWeightClass) if os2 is not None else (700 if "Bold" in name else 400)
                italic = bool(os2.fsSelection & 1) if os2 is not None else False
            except _UNREADABLE:
                continue
            italic = italic or any(w in name for w in ("Italic", "Oblique"))
            faces.append(Face(path, index, name, weight, italic))
    return tuple(faces)


@cache
def _coverage(face: Face) -> frozenset[int]:
    with _opened(face.path) as fonts:
        try:
            return frozenset(fonts[face.index].getBestCmap() or {})
        except _UNREADABLE:
            return frozenset()


def _preference(face: Face, bold: bool) -> tuple[int, int, int, str]:
    name = face.name.lower()
    family = 2 if "mono" in name else 1 if "serif" in name and "sans" not in name else 0
    return (int(face.italic), family, abs(face.weight - (700 if bold else 400)), f"{face.path}#{face.index}")


@dataclass
class FontSet:
    """The shipped fonts plus the fonts found in ``dirs``; which face draws which character, cached."""

    dirs: Sequence[Path] = field(default_factory=system_font_dirs)
    _system: dict[bool, list[Face]] = field(default_factory=dict, repr=False)
    _choice: dict[tuple[str, bool], Face | None] = field(default_factory=dict, repr=False)

    def shipped(self, bold: bool) -> Face:
        faces = _faces_in(SHIPPED[bold])
        if not faces:
            raise RuntimeError(f"the shipped font {SHIPPED[bold]} is missing or damaged; reinstall tutti")
        return faces[0]

    def system(self, bold: bool) -> list[Face]:
        """System faces in order of preference, listed once (only when the shipped font lacks a character)."""
        if bold not in self._system:
            paths = {
                path
                for folder in self.dirs
                for path in folder.rglob("*")
                if path.suffix.lower() in _EXTENSIONS and path.is_file() and path not in SHIPPED.values()
            }
            faces = [face for path in sorted(paths) for face in _faces_in(path)]
            self._system[bold] = sorted(faces, key=lambda f: _preference(f, bold))
        return self._system[bold]

    def face_for(self, char: str, bold: bool) -> Face | None:
        """The first face covering ``char``: the shipped font, then system fonts; None if none does."""
        key = (char, bold)
        if key not in self._choice:
            code, first = ord(char), self.shipped(bold)
            if code in _coverage(first):
                self._choice[key] = first
            else:
                found = (f for f in self.system(bold) if code in _coverage(f) and _loads(f))
                self._choice[key] = next(found, None)
        return self._choice[key]

    def runs(self, text: str, bold: bool = False) -> list[Run]:
        """``text`` (NFC) cut into runs of one face each; uncovered characters become REPLACEMENT runs."""
        runs: list[Run] = []
        for char in unicodedata.normalize("NFC", text):
            face = self.face_for(char, bold)
            category = unicodedata.category(char)
            if face is None and category in _IGNORABLE:
                continue
            # Marks and spaces stay with the run before them when its face has them (keeps shaping intact).
            previous = runs[-1].face if runs else None
            if previous and (category.startswith("M") or char.isspace()) and ord(char) in _coverage(previous):
                face = previous
            piece = char if face is not None else REPLACEMENT
            if runs and runs[-1].face == face:
                runs[-1] = Run(runs[-1].text + piece, face)
            else:
                runs.append(Run(piece, face))
        return runs

    def missing(self, text: str, bold: bool = False) -> set[str]:
        """Visible characters of ``text`` that no available font covers."""
        return {
            c
            for c in unicodedata.normalize("NFC", text)
            if unicodedata.category(c) not in _IGNORABLE and self.face_for(c, bold) is None
        }

    def font(self, face: Face | None, size: int, bold: bool) -> ImageFont.FreeTypeFont:
        return _pillow_font(face or self.shipped(bold), size)

    def width(self, text: str, size: int, bold: bool = False) -> float:
        return sum(self.font(r.face, size, bold).getlength(r.text) for r in self.runs(text, bold))

    def draw(
        self, draw: ImageDraw.ImageDraw, x: float, baseline: float, text: str, size: int, fill: Fill, bold: bool
    ) -> float:
        """Draw ``text`` from ``x`` on ``baseline``, run by run; return its width."""
        start = x
        for run in self.runs(text, bold):
            font = self.font(run.face, size, bold)
            draw.text((x, baseline), run.text, font=font, fill=fill, anchor="ls")
            x += font.getlength(run.text)
        return x - start


@cache
def _pillow_font(face: Face, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(face.path), size, index=face.index)


@cache
def _loads(face: Face) -> bool:
    """Whether FreeType (through Pillow) can use a face that fontTools could read."""
    try:
        _pillow_font(face, 12)
    except OSError:
        return False
    return True


@cache
def default_fonts() -> FontSet:
    """The process-wide font set: shipped fonts and the system's."""
    return FontSet()


def missing_glyphs(text: str, bold: bool = False, fonts: FontSet | None = None) -> set[str]:
    """Characters of ``text`` that would be drawn as a replacement mark (no shipped or system font has them)."""
    return (fonts or default_fonts()).missing(text, bold)
