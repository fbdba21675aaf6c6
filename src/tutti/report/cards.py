"""Share cards: PNGs of a recap, drawn with Pillow, in the two sizes people post: story (1080x1920) and square
(1080x1080).

Only the cards the data supports are drawn: a card whose figures the history does not hold (a clock without
plays, eras without a second era, discoveries of a period that starts the history, where everything is new and
the list would repeat the top artists) is left out rather than drawn half empty, and a tile whose figure the
export did not record is left out rather than shown as a dash. Cards speak plainly: the period and Tutti as their
maker, no rule names or export vocabulary. Text is real text, drawn run by run with the shipped font or a system
font that has the characters (``tutti.report.fonts``); a character no font has is drawn as a visible replacement
mark and listed in ``Card.missing``. Files are named ``tutti-<profile>-<period>-<size>-NN-<card>.png``, so two
people's cards, or two sizes, never overwrite each other.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tutti.errors import UsageError
from tutti.insights.recap import Recap
from tutti.report import cardtext as txt
from tutti.report.canvas import FAINT, HEIGHT, INNER, MARGIN, MUTED, RGBA, SIZES, WIDTH, Canvas, Card, Theme, blend
from tutti.report.fonts import FontSet, default_fonts, missing_glyphs

__all__ = ["HEIGHT", "SIZES", "WIDTH", "Card", "draw_cards", "missing_glyphs", "render_cards", "write_cards"]


def _period(recap: Recap) -> str:
    if recap.period == "all":
        return txt.period_name(recap.period, recap.history_first_day, recap.history_last_day)
    return txt.period_name(recap.period, recap.period_first_day, recap.period_last_day)


def _covered(recap: Recap) -> str:
    """The period, and for one the data covers in part, the days it does cover: "2024  ·  22 AUG – 31 DEC 2024"."""
    cover = recap.coverage
    if cover and cover.partial and cover.covered_first_day and cover.covered_last_day:
        return f"{_period(recap)}  ·  {txt.days(cover.covered_first_day, cover.covered_last_day).upper()}"
    return _period(recap)


def _chrome(c: Canvas, recap: Recap, kicker: str, title: str, span: str | None = None) -> None:
    footnote = "all-time recap" if recap.period == "all" else f"{_period(recap).title()} recap"
    c.chrome(f"{kicker.upper()}  ·  {span or _covered(recap)}", title, footnote)


def _stat(c: Canvas, x: float, y: float, width: float, value: str, label: str, note: str = "") -> None:
    """A tile: a big figure, what it counts and a line of evidence; ``y`` is the figure's baseline."""
    big, step = (96, 60) if c.tall else (76, 48)
    c.tile((x, y - big - 54, x + width, y + (step + 90 if note else step + 50)))
    c.text(x + 36, y, value, big, bold=True, fill=c.accent(), max_width=width - 72, min_size=44)
    c.text(x + 36, y + step, label, 34 if c.tall else 30, bold=True, max_width=width - 72)
    if note:
        c.text(x + 36, y + step + 44, note, 26 if c.tall else 24, fill=MUTED, max_width=width - 72)


def _minutes_card(c: Canvas, recap: Recap) -> None:
    t = recap.totals
    half, timed = (INNER - 24) / 2, recap.measure == "time"  # the recap's one measure, as on the page
    if timed:
        _chrome(c, recap, "Minutes", "You listened for")
        days, hours = divmod(round(t.minutes) // 60, 24)
        spans = [txt.plural(n, unit) for n, unit in ((days, "day"), (hours, "hour")) if n] or ["less than an hour"]
        note = f"that is {' and '.join(spans)} of sound"
        if t.ms_estimated:  # scrobbles counted at their track's known length
            note = f"{note}, {t.ms_estimated / t.ms_played:.0%} estimated"
        big, unit, stat, label = f"{round(t.minutes):,}", "minutes", f"{t.plays:,}", "plays"
    else:  # scrobbles alone record no listening time: the plays lead
        _chrome(c, recap, "Plays", "You pressed play")
        # the recap counts plays when most of its events are scrobbles (they record no time)
        note = "counted from your scrobbles" if not t.ms_known_share else "mostly scrobbles: counted in plays"
        big, unit, stat, label = f"{t.plays:,}", "times", f"{t.artists:,}", "artists"
    top = 580 if c.tall else 460
    c.text(MARGIN - 8, top, big, 250 if c.tall else 170, bold=True, fill=c.accent(), min_size=100)
    c.text(MARGIN, top + (100 if c.tall else 66), unit, 72 if c.tall else 50, bold=True)
    c.text(MARGIN, top + (180 if c.tall else 114), note, 38 if c.tall else 30, fill=MUTED)
    if c.tall:
        _stat(c, MARGIN, 1010, half, stat, label)
        covered = recap.coverage.covered_days if recap.coverage else t.days_in_period  # the days the data covers
        days_label = f"of {covered:,} days" if covered else "days with music"
        _stat(c, MARGIN + half + 24, 1010, half, f"{t.days_listened:,}", days_label)
    _month_bars(c, recap, timed, (1250, 1560) if c.tall else (690, 830))


def _month_bars(c: Canvas, recap: Recap, timed: bool, span: tuple[int, int]) -> None:
    """Time (or plays) per month, each bar labelled with its month, the busiest with its figure."""
    months = recap.monthly
    if len(months) < 2:
        return
    values = [m.ms_played if timed else m.plays for m in months]
    (top, bottom), peak, step = span, max(1, *values), INNER / len(months)
    busiest_index = values.index(max(values))
    label_every = 1 if len(months) <= 12 else 3 if len(months) <= 36 else 12
    for i, (month, value) in enumerate(zip(months, values, strict=True)):
        height = max(4.0, (bottom - top) * value / peak)
        left = MARGIN + i * step + step * 0.14
        busiest = i == busiest_index
        c.draw.rounded_rectangle((left, bottom - height, left + step * 0.72, bottom), radius=min(10, step / 4),
                                 fill=c.accent(230) if busiest else FAINT)  # fmt: skip
        middle = left + step * 0.36
        if i % label_every == 0:
            name = txt.MONTHS[int(month.month[5:7]) - 1]
            label = name[0] if len(months) > 6 and label_every == 1 else name
            if label_every > 1:
                label = f"{name} {month.month[2:4]}"
            c.text(middle, bottom + 40, label, 26, fill=MUTED, align="center", max_width=step * label_every)
        if busiest:
            figure = f"{txt.minutes(value)} min" if timed else f"{value:,} plays"
            x = min(max(middle, MARGIN + 90), WIDTH - MARGIN - 90)
            c.text(x, bottom - height - 16, figure, 26, bold=True, fill=c.accent(), align="center", max_width=200)


def _top_artist_card(c: Canvas, recap: Recap) -> None:
    _chrome(c, recap, "Top artist", "Your top artist")
    first, *rest = recap.ranked_artists  # ranked by the recap's one measure, as on the page
    c.text(MARGIN, 420 if c.tall else 380, "#1", 56 if c.tall else 44, bold=True, fill=c.accent())
    y = c.lines(MARGIN, 580 if c.tall else 490, first.name, 150 if c.tall else 96, 3 if c.tall else 2)
    c.text(MARGIN, y + 100 if c.tall else y + 76, txt.amount(first.ms_played, first.plays, " minutes  ·  "),
           44 if c.tall else 36, bold=True, fill=c.accent())  # fmt: skip
    music = recap.totals.music.ms_played
    detail = f"{first.ms_played / music:.0%} of your music time" if music and first.ms_played else ""
    if c.tall:
        since = "first played on" if recap.period == "all" else "first played this period on"
        c.text(MARGIN, y + 164, detail or f"{since} {txt.day(first.first_local.date())}", 34, fill=MUTED)
        if detail:
            c.text(MARGIN, y + 214, f"{since} {txt.day(first.first_local.date())}", 34, fill=MUTED)
    elif detail:
        c.text(MARGIN, y + 126, detail, 30, fill=MUTED)
    rows = rest[:4] if c.tall else [a for i, a in enumerate(rest[:2]) if y + 262 + i * 60 <= c.bottom]
    if rows:
        c.text(MARGIN, y + (330 if c.tall else 200), "ALSO ON REPEAT", 28, bold=True, fill=MUTED)
    for i, artist in enumerate(rows):
        y_row = y + (420 + i * 84 if c.tall else 262 + i * 60)
        size = 44 if c.tall else 36
        c.text(MARGIN, y_row, f"{i + 2}", size, bold=True, fill=c.accent())
        c.text(MARGIN + 80, y_row, artist.name, size, max_width=INNER - 330)
        timed = artist.ms_played and recap.measure == "time"
        spent = f"{txt.minutes(artist.ms_played)} min" if timed else txt.plural(artist.plays, "play")
        c.text(WIDTH - MARGIN, y_row, spent, 34 if c.tall else 30, fill=MUTED, align="right")


def _top_tracks_card(c: Canvas, recap: Recap) -> None:
    _chrome(c, recap, "Top tracks", "Your top tracks")
    step, shown = (246, 5) if c.tall else (158, 3)
    for i, track in enumerate(recap.ranked_tracks[:shown]):
        y = (470 if c.tall else 420) + i * step
        # numbered as shown: the tracks with plays, in the recap's order
        c.text(MARGIN, y + 42, f"{i + 1}", 128 if c.tall else 96, bold=True, fill=c.accent(), max_width=120)
        x, width = MARGIN + 150, INNER - 150
        c.text(x, y, track.name, 54 if c.tall else 46, bold=True, max_width=width, min_size=36)
        c.text(x, y + (58 if c.tall else 48), track.artist or "unknown artist", 38 if c.tall else 32, fill=MUTED,
               max_width=width)  # fmt: skip
        if c.tall:
            c.text(x, y + 112, txt.amount(track.ms_played, track.plays, " min  ·  "), 32, fill=c.accent(220))


def _heat(c: Canvas, share: float) -> tuple[int, int, int]:
    """Colour of a clock cell: from barely there, through the second accent, to the accent."""
    empty = blend(c.theme.top, (255, 255, 255), 0.07)
    if share < 0.5:
        return blend(empty, c.theme.second, share * 2)
    return blend(c.theme.second, c.theme.accent, share * 2 - 1)


def _clock_card(c: Canvas, recap: Recap) -> None:
    clock = recap.clock
    assert clock.peak_weekday is not None and clock.peak_hour is not None  # supported() checked it
    _chrome(c, recap, "Listening clock", "When you listen")
    c.text(MARGIN, 350, f"Most of all on {txt.WEEKDAYS[clock.peak_weekday - 1]} at {clock.peak_hour:02d}:00", 40,
           fill=c.accent())  # fmt: skip
    timed = any(cell.ms_played for cell in clock.cells)  # scrobbles alone: the clock counts plays
    values = {(cell.weekday, cell.hour): cell.ms_played if timed else cell.plays for cell in clock.cells}
    peak, gap = max(1, *values.values()), 6
    if c.tall:  # days across, hours down
        left, top, cell_w, cell_h = MARGIN + 78, 470, (INNER - 78) / 7, 47.0
        for day in range(7):
            c.text(left + day * cell_w + cell_w / 2, top - 22, "MTWTFSS"[day], 30, bold=True, fill=MUTED,
                   align="center")  # fmt: skip
        for hour in range(0, 24, 3):
            c.text(MARGIN, top + hour * cell_h + 34, f"{hour:02d}", 28, fill=MUTED)
    else:  # hours across, days down: a square card is wide
        left, top, cell_w, cell_h = MARGIN + 50, 430, (INNER - 50) / 24, 46.0
        for day in range(7):
            c.text(MARGIN, top + day * cell_h + 33, "MTWTFSS"[day], 28, bold=True, fill=MUTED)
        for hour in range(0, 24, 6):
            c.text(left + hour * cell_w, top + 7 * cell_h + 36, f"{hour:02d}:00", 24, fill=MUTED)
    for cell in clock.cells:
        column, row = (cell.weekday - 1, cell.hour) if c.tall else (cell.hour, cell.weekday - 1)
        x, y = left + column * cell_w, top + row * cell_h
        box = (x + gap / 2, y + gap / 2, x + cell_w - gap / 2, y + cell_h - gap / 2)
        c.draw.rounded_rectangle(
            box, 9 if c.tall else 6, fill=_heat(c, (values[cell.weekday, cell.hour] / peak) ** 0.5)
        )
    y = top + 24 * cell_h + 70 if c.tall else c.bottom
    c.text(left, y, "less", 28, fill=MUTED)
    for i in range(6):
        x = left + 76 + i * 52
        c.draw.rounded_rectangle((x, y - 30, x + 44, y + 4), 8, fill=_heat(c, i / 5))
    c.text(left + 76 + 6 * 52 + 12, y, "more time" if timed else "more plays", 28, fill=MUTED)
    unset = {"suggested": " (suggested by your export)", "machine": " (not set: this computer's)"}.get(
        recap.zone_basis, ""
    )
    where = "your local time where you were" if "→" in clock.zone else clock.zone
    c.text(MARGIN, 398, f"hours on {where}{unset}", 26, fill=MUTED)


def _discoveries_card(c: Canvas, recap: Recap) -> None:
    found = recap.discoveries
    _chrome(c, recap, "Discoveries", "New to you")
    half = (INNER - 24) / 2
    y0 = 520 if c.tall else 470
    _stat(c, MARGIN, y0, half, f"{found.artist_count:,}", "new artists")
    _stat(c, MARGIN + half + 24, y0, half, f"{found.track_count:,}", "new tracks")
    c.text(MARGIN, 790 if c.tall else 650, "BEST FINDS", 30, bold=True, fill=MUTED)
    for i, artist in enumerate(found.artists[:5] if c.tall else found.artists[:3]):
        if c.tall:
            y = 890 + i * 150
            c.text(MARGIN, y, artist.name, 54, bold=True, min_size=40)
            c.text(MARGIN, y + 50, f"first heard {txt.day(artist.first_local.date())}  ·  {artist.plays:,} plays", 32,
                   fill=MUTED)  # fmt: skip
        else:
            y = 720 + i * 64
            c.text(MARGIN, y, artist.name, 40, bold=True, min_size=30, max_width=INNER - 220)
            c.text(WIDTH - MARGIN, y, txt.plural(artist.plays, "play"), 30, fill=MUTED, align="right")


def _eras_card(c: Canvas, recap: Recap) -> None:
    first, last = recap.history_first_day, recap.history_last_day
    span = f"YOUR HISTORY {first.year}–{last.year}" if first and last and first.year != last.year else None
    _chrome(c, recap, "Eras", "Your eras", span)
    eras = sorted(recap.eras, key=lambda e: e.start)
    most = 5 if c.tall else 3
    shown = sorted(sorted(eras, key=lambda e: -e.ms_played)[:most], key=lambda e: e.start)
    bounded = recap.period_first_day is not None or recap.period_last_day is not None
    start = f"{recap.period_first_day:%Y-%m}" if recap.period_first_day else "0000-00"
    end = f"{recap.period_last_day:%Y-%m}" if recap.period_last_day else "9999-99"

    def index(month: str) -> int:
        return int(month[:4]) * 12 + int(month[5:7])

    def colour(i: int, now: bool) -> RGBA:  # this recap's eras in the accent, neighbours told apart
        return c.accent(255 - 70 * (i % 2)) if now else (*c.theme.second, 255 - 70 * (i % 2))

    first_month, months = index(eras[0].start), index(eras[-1].end) - index(eras[0].start) + 1
    for i, era in enumerate(eras):  # the whole history as a strip of eras
        left = MARGIN + INNER * (index(era.start) - first_month) / months
        right = MARGIN + INNER * (index(era.end) + 1 - first_month) / months
        box = (left + 2, 360, max(left + 6, right - 2), 400)
        c.draw.rounded_rectangle(box, 8, fill=colour(i, era.start <= end and era.end >= start))
    c.text(MARGIN, 446, txt.month(eras[0].start), 26, fill=MUTED)
    c.text(WIDTH - MARGIN, 446, txt.month(eras[-1].end), 26, fill=MUTED, align="right")
    if len(eras) > len(shown):
        c.text(WIDTH / 2, 446, f"the {len(shown)} biggest of {len(eras)} eras", 26, fill=MUTED, align="center")
    y, x, width = (560.0 if c.tall else 530.0), MARGIN + 64, INNER - 64
    block = 150 if c.tall else 100  # an era's label, name and plays, below its dot
    step = min(560.0, (c.bottom - block - y) / (len(shown) - 1)) if len(shown) > 1 else 0.0
    c.draw.line((MARGIN + 14, y, MARGIN + 14, y + step * (len(shown) - 1)), fill=FAINT, width=4)
    for era in shown:
        now = era.start <= end and era.end >= start  # the era overlaps this recap's period
        c.draw.ellipse((MARGIN, y - 14, MARGIN + 28, y + 14), fill=colour(0, now))
        when = txt.month(era.start) if era.start == era.end else f"{txt.month(era.start)} – {txt.month(era.end)}"
        label = when.upper() + ("  ·  THIS RECAP" if now and bounded else "")
        c.text(x, y + 11, label, 28 if c.tall else 24, bold=True, fill=c.accent() if now else MUTED)
        if c.tall:
            name_y = c.lines(x, y + 64, era.name, 44, 2, min_size=34, max_width=width)
        else:
            name_y = y + 54
            c.text(x, name_y, era.name, 36, bold=True, max_width=width, min_size=28)
        hours = f"  ·  {txt.duration(era.ms_played)}" if era.ms_played else ""
        c.text(x, name_y + (46 if c.tall else 38), f"{era.plays:,} plays{hours}", 30 if c.tall else 24, fill=MUTED)
        for i, (artist, share) in enumerate(zip(era.artists, era.shares, strict=False) if step >= 450 else ()):
            row = name_y + 130 + i * 96  # what the era was made of: each defining artist's share of its time
            c.text(x, row, artist, 34, bold=True, max_width=width - 120)
            c.text(WIDTH - MARGIN, row, f"{share:.0%} of the era's time", 28, bold=True, fill=c.accent(),
                   align="right")  # fmt: skip
            c.draw.rounded_rectangle((x, row + 22, x + width, row + 36), 7, fill=FAINT)
            c.draw.rounded_rectangle((x, row + 22, x + max(14, width * share), row + 36), 7, fill=c.accent())
        y += step


def _habit_tiles(recap: Recap) -> list[tuple[str, str, str]]:
    """The habits the export recorded, most telling first; what it did not record is left out."""
    s, streak, sessions, busiest = recap.skips, recap.streak, recap.sessions, recap.busiest_day
    tiles = []
    if streak.days > 1 and streak.start and streak.end:
        tiles.append((f"{streak.days:,}", "days in a row", txt.days(streak.start, streak.end)))
    if busiest and (busiest.ms_played or busiest.plays):
        tiles.append((txt.amount(busiest.ms_played, busiest.plays), "busiest day", txt.day(busiest.day)))
    if s.rate is not None:
        tiles.append((txt.percent(s.rate), "skipped", f"{s.skipped:,} of {s.events_with_skip_info:,} listens"))
    if sessions.count and sessions.median_minutes >= 1:
        tiles.append((f"{round(sessions.median_minutes)} min", "a typical session", f"of {sessions.count:,} sessions"))
    if sessions.longest and sessions.longest.minutes >= 1:
        longest = sessions.longest
        tiles.append((txt.duration(round(longest.minutes * 60_000)), "longest session",
                      txt.day(longest.start_local.date())))  # fmt: skip
    if s.shuffle_share is not None:
        tiles.append((txt.percent(s.shuffle_share), "on shuffle", ""))
    if s.offline_share is not None:
        tiles.append((txt.percent(s.offline_share), "offline", ""))
    if s.platforms and s.platforms[0].name != "unknown":
        tiles.append((txt.percent(s.platforms[0].share), f"on {s.platforms[0].name}", ""))
    return tiles


def _habits_card(c: Canvas, recap: Recap) -> None:
    _chrome(c, recap, "Habits", "How you listen")
    tiles = _habit_tiles(recap)[: 8 if c.tall else 4]
    half = (INNER - 24) / 2
    single = c.tall and len(tiles) <= 4  # a few habits fill the story card one per row, not half of it
    for i, (value, label, note) in enumerate(tiles):
        if single:
            _stat(c, MARGIN, 520 + i * 330, INNER, value, label, note)
            continue
        y = (500 + (i // 2) * 330) if c.tall else (460 + (i // 2) * 280)
        _stat(c, MARGIN + (i % 2) * (half + 24), y, half, value, label, note)


def _new_to_this_period(recap: Recap) -> bool:
    """Discoveries mean something only after the history began: in a period that starts it, all is new and the
    list would repeat the top artists."""
    found = recap.discoveries
    if recap.period == "all" or not found.artists or recap.history_first_day is None:
        return False
    return recap.period_first_day is not None and recap.period_first_day > recap.history_first_day


THEMES = {
    "minutes": Theme((43, 22, 84), (16, 10, 38), (255, 122, 89), (120, 70, 180)),
    "top-artist": Theme((12, 58, 66), (6, 24, 30), (246, 196, 83), (40, 120, 120)),
    "top-tracks": Theme((70, 20, 62), (28, 8, 30), (127, 209, 185), (150, 60, 130)),
    "clock": Theme((20, 34, 74), (8, 14, 34), (255, 179, 71), (214, 64, 112)),
    "discoveries": Theme((22, 64, 44), (8, 26, 20), (198, 242, 107), (60, 140, 90)),
    "eras": Theme((74, 40, 22), (30, 14, 10), (255, 159, 90), (170, 90, 50)),
    "habits": Theme((34, 34, 58), (12, 12, 24), (134, 180, 255), (90, 90, 160)),
}
# Each card, and whether the recap's data supports it (drawn only then).
CARDS: dict[str, tuple[Callable[[Canvas, Recap], None], Callable[[Recap], bool]]] = {
    "minutes": (_minutes_card, lambda r: r.totals.plays > 0),
    "top-artist": (_top_artist_card, lambda r: bool(r.ranked_artists)),
    "top-tracks": (_top_tracks_card, lambda r: len(r.ranked_tracks) >= 3),
    "clock": (_clock_card, lambda r: r.clock.peak_weekday is not None and r.clock.peak_hour is not None),
    "discoveries": (_discoveries_card, _new_to_this_period),
    "eras": (_eras_card, lambda r: r.totals.plays > 0 and len(r.eras) >= 2),
    "habits": (_habits_card, lambda r: len(_habit_tiles(r)) >= 4),
}


def draw_cards(recap: Recap, fonts: FontSet | None = None, size: str = "story") -> list[Card]:
    """The cards ``recap`` supports, drawn in memory in ``size`` (``story`` or ``square``), in story order; none
    for a period with too little to tell (``Coverage.tellable``)."""
    if size not in SIZES:
        raise UsageError(f"unknown card size {size!r}; choose {' or '.join(SIZES)}")
    cards: list[Card] = []
    if recap.coverage and not recap.coverage.tellable:
        return cards
    for name, (draw, supported) in CARDS.items():
        if not supported(recap):
            continue
        canvas = Canvas(f"{len(cards) + 1:02d}-{name}", THEMES[name], fonts or default_fonts(), SIZES[size][1])
        draw(canvas, recap)
        cards.append(canvas.card)
    return cards


def render_cards(
    recap: Recap, out_dir: Path, fonts: FontSet | None = None, sizes: tuple[str, ...] = tuple(SIZES)
) -> list[Path]:
    """Write the cards of ``recap`` to ``out_dir`` in every size of ``sizes``; return the paths."""
    return [path for size in sizes for path in write_cards(draw_cards(recap, fonts, size), recap, size, out_dir)]


def file_stem(recap: Recap, size: str) -> str:
    """``tutti-<profile>-<period>-<size>``: whose cards, of which period, in which size."""
    return "-".join(
        re.sub(r"[^\w.]+", "_", part).strip("_") or "_" for part in ("tutti", recap.profile, recap.period, size)
    )


def write_cards(cards: list[Card], recap: Recap, size: str, out_dir: Path) -> list[Path]:
    """Save ``cards`` as ``<file_stem>-NN-<card>.png`` in ``out_dir`` (created if needed)."""
    stem = file_stem(recap, size)
    paths = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for card in cards:
            path = out_dir / f"{stem}-{card.name}.png"
            card.image.save(path, "PNG")
            paths.append(path)
    except OSError as exc:
        raise UsageError(f"cannot write the cards to {out_dir}: {exc.strerror or exc}") from None
    return paths
