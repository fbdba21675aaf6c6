"""The drawing surface of a share card: a story-sized (1080x1920) or square (1080x1080) image, its chrome, and text
that fits.

Every string drawn is recorded on the card, with the characters no font could draw, so that what a card says
can be checked without reading pixels.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from tutti.report.fonts import FontSet

WIDTH, HEIGHT = 1080, 1920
SIZES = {"story": (WIDTH, HEIGHT), "square": (WIDTH, WIDTH)}  # what people post: 9:16 stories and 1:1 posts
MARGIN = 96
INNER = WIDTH - 2 * MARGIN
INK = (247, 243, 234, 255)
MUTED = (247, 243, 234, 170)
FAINT = (247, 243, 234, 60)
RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class Theme:
    """A card's colours: a vertical gradient from ``top`` to ``bottom``, and two accents."""

    top: RGB
    bottom: RGB
    accent: RGB
    second: RGB


@dataclass
class Card:
    """A drawn card: its file stem, the image, every string drawn on it and the characters no font had."""

    name: str
    image: Image.Image
    texts: list[str] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)


def blend(a: RGB, b: RGB, t: float) -> RGB:
    r, g, bl = (round(x + (y - x) * min(1.0, max(0.0, t))) for x, y in zip(a, b, strict=True))
    return (r, g, bl)


def wrap(text: str, measure: Callable[[str], float], width: float) -> list[str]:
    """Greedy word wrap; words wider than a line (or text without spaces, as in CJK) break between characters."""
    lines: list[str] = []
    line = ""
    for word in re.findall(r"\S+\s*", text):
        for piece in [word] if measure(word.rstrip()) <= width else list(word):
            if line and measure((line + piece).rstrip()) > width:
                lines.append(line.rstrip())
                line = piece.lstrip()
            else:
                line += piece
    return [*lines, line.rstrip()] if line.strip() else lines or [""]


class Canvas:
    """A card being drawn: background, chrome and text helpers that record what they draw."""

    def __init__(self, name: str, theme: Theme, fonts: FontSet, height: int = HEIGHT) -> None:
        self.height = height
        mask = Image.linear_gradient("L").resize((WIDTH, height))
        top, bottom = Image.new("RGB", mask.size, theme.top), Image.new("RGB", mask.size, theme.bottom)
        self.image = Image.composite(bottom, top, mask)
        self.draw = ImageDraw.Draw(self.image, "RGBA")
        self.card = Card(name, self.image)
        self.theme, self.fonts = theme, fonts
        for i, radius in enumerate(range(260, 700, 62)):  # the faint grooves of a record, top right
            box = (WIDTH - 40 - radius, 40 - radius, WIDTH - 40 + radius, 40 + radius)
            self.draw.ellipse(box, outline=(*theme.accent, 30 - 3 * i), width=3)

    def accent(self, alpha: int = 255) -> RGBA:
        return (*self.theme.accent, alpha)

    def width(self, text: str, size: int, bold: bool = False) -> float:
        return self.fonts.width(text, size, bold)

    def text(
        self, x: float, y: float, text: str, size: int, *, bold: bool = False, fill: RGBA = INK,
        align: str = "left", max_width: float = INNER, min_size: int | None = None, record: bool = True,
    ) -> int:  # fmt: skip
        """Draw one line on baseline ``y``; shrink it (down to ``min_size``), then shorten it with an ellipsis.

        Returns the size used."""
        while size > (min_size or size) and self.width(text, size, bold) > max_width:
            size -= 2
        while len(text) > 1 and self.width(text, size, bold) > max_width:
            text = text[:-2].rstrip() + "…"
        width = self.width(text, size, bold)
        left = x - width if align == "right" else x - width / 2 if align == "center" else x
        self.fonts.draw(self.draw, left, y, text, size, fill, bold)
        if record:
            self.card.texts.append(text)
        self.card.missing |= self.fonts.missing(text, bold)
        return size

    def lines(
        self, x: float, y: float, text: str, size: int, max_lines: int, *, bold: bool = True, fill: RGBA = INK,
        min_size: int = 56, max_width: float = INNER,
    ) -> float:  # fmt: skip
        """Wrap ``text`` into at most ``max_lines`` lines from baseline ``y``, smaller if it must be;
        return the last baseline."""

        def measure(line: str) -> float:
            return self.width(line, size, bold)

        lines = wrap(text, measure, max_width)
        while len(lines) > max_lines and size > min_size:
            size -= 4
            lines = wrap(text, measure, max_width)
        if len(lines) > max_lines:  # the last line takes the rest, shortened by text()
            lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
        elif len(lines) > 1:  # balance the lines: the narrowest width that needs no more of them
            low, high = min(max_width, max(measure(w) for w in text.split())), max_width
            for _ in range(10):
                middle = (low + high) / 2
                low, high = (low, middle) if len(wrap(text, measure, middle)) <= len(lines) else (middle, high)
            lines = wrap(text, measure, high)
        leading = round(size * 1.12)
        for i, line in enumerate(lines):
            self.text(x, y + i * leading, line, size, bold=bold, fill=fill, max_width=max_width, record=False)
        self.card.texts.append(text)
        return y + (len(lines) - 1) * leading

    def chrome(self, kicker: str, title: str, footnote: str) -> None:
        """The kicker and title on top; Tutti's mark and the small print at the bottom."""
        self.text(MARGIN, 176, kicker, 30, bold=True, fill=self.accent())
        self.text(MARGIN, 268, title, 68, bold=True, min_size=48)
        foot = self.height - (190 if self.tall else 150)
        self.draw.line((MARGIN, foot, WIDTH - MARGIN, foot), fill=FAINT, width=2)
        self.draw.ellipse((MARGIN, foot + 58, MARGIN + 26, foot + 84), fill=self.accent())
        self.text(MARGIN + 40, foot + 86, "Tutti", 44, bold=True)
        self.text(WIDTH - MARGIN, foot + 80, footnote, 26, fill=MUTED, align="right", max_width=INNER - 220)

    @property
    def tall(self) -> bool:
        """A story card (9:16); else a square one, which shows less of each list."""
        return self.height > WIDTH

    @property
    def bottom(self) -> int:
        """The lowest baseline content may use, above the footer."""
        return self.height - (230 if self.tall else 180)

    def tile(self, box: tuple[float, float, float, float]) -> None:
        self.draw.rounded_rectangle(box, 28, fill=(255, 255, 255, 16))

    def empty(self, message: str) -> None:
        self.lines(MARGIN, 760, message, 64, 4, bold=False, fill=MUTED, min_size=40)
