"""Share cards: one story-sized PNG (1080x1920) per part of a recap, drawn with Pillow.

Every card names its period, the play rule in small print and Tutti as its maker. Text is real text, drawn run
by run with the shipped font or a system font that has the characters (``tutti.report.fonts``); a character no
font has is drawn as a visible replacement mark and listed in ``Card.missing``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tutti.errors import UsageError
from tutti.insights.recap import Recap
from tutti.report import cardtext as txt
from tutti.report.canvas import FAINT, HEIGHT, INNER, MARGIN, MUTED, RGBA, WIDTH, Canvas, Card, Theme, blend
from tutti.report.fonts import FontSet, default_fonts, missing_glyphs

__all__ = ["HEIGHT", "WIDTH", "Card", "draw_cards", "missing_glyphs", "render_cards"]


def _period(recap: Recap) -> str:
    if recap.period == "all":
        return txt.period_name(recap.period, recap.history_first_day, recap.history_last_day)
    name = txt.period_name(recap.period, recap.period_first_day, recap.period_last_day)
    cover = recap.coverage
    if cover and cover.partial and cover.covered_first_day and cover.covered_last_day:  # the days the data covers
        return f"{name}  ·  {txt.days(cover.covered_first_day, cover.covered_last_day).upper()}"
    return name


def _chrome(c: Canvas, recap: Recap, kicker: str, title: str, span: str | None = None) -> None:
    footnote = f"{'all-time' if recap.period == 'all' else recap.period} recap  ·  plays by rule {recap.rule}"
    c.chrome(f"{kicker.upper()}  ·  {span or _period(recap)}", title, footnote)


def _stat(c: Canvas, x: float, y: float, width: float, value: str, label: str, note: str = "") -> None:
    """A tile: a big figure, what it counts and a line of evidence; ``y`` is the figure's baseline."""
    c.tile((x, y - 150, x + width, y + (150 if note else 110)))
    c.text(x + 36, y, value, 96, bold=True, fill=c.accent(), max_width=width - 72, min_size=48)
    c.text(x + 36, y + 60, label, 36, bold=True, max_width=width - 72)
    if note:
        c.text(x + 36, y + 104, note, 26, fill=MUTED, max_width=width - 72)


def _minutes_card(c: Canvas, recap: Recap) -> None:
    t = recap.totals
    half, timed = (INNER - 24) / 2, recap.measure == "time"
    if timed:
        _chrome(c, recap, "Minutes", "You listened for")
        days, hours = divmod(round(t.minutes) // 60, 24)
        spans = [txt.plural(n, unit) for n, unit in ((days, "day"), (hours, "hour")) if n] or ["less than an hour"]
        note = f"that is {' and '.join(spans)} of sound"
        if t.ms_estimated:
            note = f"{note} ({t.ms_estimated / t.ms_played:.0%} estimated)"
        elif t.ms_known_share < 0.995:
            note = f"{note} (time known for {t.ms_known_share:.0%} of events)"
        big, unit, stat, label = f"{round(t.minutes):,}", "minutes", f"{t.plays:,}", "plays"
    else:  # scrobbles alone record no listening time: the plays lead
        _chrome(c, recap, "Plays", "You pressed play")
        note = "scrobbles record no listening time"
        big, unit, stat, label = f"{t.plays:,}", "times", f"{t.artists:,}", "artists"
    c.text(MARGIN - 8, 580, big, 250, bold=True, fill=c.accent(), min_size=120)
    c.text(MARGIN, 680, unit, 72, bold=True)
    c.text(MARGIN, 760, note, 38, fill=MUTED)
    _stat(c, MARGIN, 1010, half, stat, label)
    covered = recap.coverage.covered_days if recap.coverage else t.days_in_period  # per-day: the covered days
    _stat(c, MARGIN + half + 24, 1010, half, f"{t.days_listened:,}",
          f"of {covered:,} days" if covered else "days with music")  # fmt: skip
    months = recap.monthly
    if len(months) > 1:
        values = [m.ms_played if timed else m.plays for m in months]
        top, bottom, peak, step = 1250, 1590, max(1, *values), INNER / len(months)
        for i, value in enumerate(values):
            height = max(4.0, (bottom - top) * value / peak)
            left = MARGIN + i * step + step * 0.14
            c.draw.rounded_rectangle((left, bottom - height, left + step * 0.72, bottom), radius=min(10, step / 4),
                                     fill=c.accent(230) if value == peak else FAINT)  # fmt: skip
        c.text(MARGIN, bottom + 48, txt.month(months[0].month), 28, fill=MUTED)
        c.text(WIDTH - MARGIN, bottom + 48, txt.month(months[-1].month), 28, fill=MUTED, align="right")


def _top_artist_card(c: Canvas, recap: Recap) -> None:
    _chrome(c, recap, "Top artist", "Your top artist")
    if not recap.ranked_artists:
        return c.empty("No music in this period yet.")
    first, *rest = recap.ranked_artists  # ranked by the recap's one measure, as on the page
    c.text(MARGIN, 420, "#1", 56, bold=True, fill=c.accent())
    y = c.lines(MARGIN, 580, first.name, 150, 3)
    c.text(MARGIN, y + 100, txt.amount(first.ms_played, first.plays, " minutes  ·  "), 44, bold=True, fill=c.accent())
    music, first_day = recap.totals.music.ms_played, txt.day(first.first_local.date())
    if music:
        c.text(MARGIN, y + 164, f"{first.ms_played / music:.0%} of your music time", 34, fill=MUTED)
    since = f"first played on {first_day}" if recap.period == "all" else f"first played in the period on {first_day}"
    c.text(MARGIN, y + (214 if music else 164), since, 34, fill=MUTED)
    if rest:
        c.text(MARGIN, y + 330, "ALSO ON REPEAT", 30, bold=True, fill=MUTED)
    for i, artist in enumerate(rest[:4]):
        y_row = y + 420 + i * 84
        c.text(MARGIN, y_row, f"{artist.rank}", 44, bold=True, fill=c.accent())
        c.text(MARGIN + 80, y_row, artist.name, 44, max_width=INNER - 330)
        spent = f"{txt.minutes(artist.ms_played)} min" if artist.ms_played else f"{artist.plays:,} plays"
        c.text(WIDTH - MARGIN, y_row, spent, 34, fill=MUTED, align="right")
    return None


def _top_tracks_card(c: Canvas, recap: Recap) -> None:
    _chrome(c, recap, "Top tracks", "Your top tracks")
    if not recap.ranked_tracks:
        return c.empty("No music in this period yet.")
    for i, track in enumerate(recap.ranked_tracks[:5]):
        y = 470 + i * 246
        c.text(MARGIN, y + 42, f"{track.rank}", 128, bold=True, fill=c.accent(), max_width=120)
        x, width = MARGIN + 150, INNER - 150
        c.text(x, y, track.name, 54, bold=True, max_width=width, min_size=40)
        c.text(x, y + 58, track.artist or "unknown artist", 38, fill=MUTED, max_width=width)
        c.text(x, y + 112, txt.amount(track.ms_played, track.plays, " min  ·  "), 32, fill=c.accent(220))
    return None


def _heat(c: Canvas, share: float) -> tuple[int, int, int]:
    """Colour of a clock cell: from barely there, through the second accent, to the accent."""
    empty = blend(c.theme.top, (255, 255, 255), 0.07)
    if share < 0.5:
        return blend(empty, c.theme.second, share * 2)
    return blend(c.theme.second, c.theme.accent, share * 2 - 1)


def _clock_card(c: Canvas, recap: Recap) -> None:
    clock = recap.clock
    _chrome(c, recap, "Listening clock", "When you listen")
    if clock.peak_weekday is None or clock.peak_hour is None:
        return c.empty("No listening in this period yet.")
    c.text(MARGIN, 350, f"Most of all on {txt.WEEKDAYS[clock.peak_weekday - 1]} at {clock.peak_hour:02d}:00", 40,
           fill=c.accent())  # fmt: skip
    left, top, cell_w, cell_h, gap = MARGIN + 78, 470, (INNER - 78) / 7, 47, 6
    for day in range(7):
        c.text(left + day * cell_w + cell_w / 2, top - 22, "MTWTFSS"[day], 30, bold=True, fill=MUTED, align="center")
    timed = any(cell.ms_played for cell in clock.cells)  # scrobbles alone: the clock counts plays
    values = {(cell.weekday, cell.hour): cell.ms_played if timed else cell.plays for cell in clock.cells}
    peak = max(1, *values.values())
    for cell in clock.cells:
        x, y = left + (cell.weekday - 1) * cell_w, top + cell.hour * cell_h
        box = (x + gap / 2, y + gap / 2, x + cell_w - gap / 2, y + cell_h - gap / 2)
        c.draw.rounded_rectangle(box, 9, fill=_heat(c, (values[cell.weekday, cell.hour] / peak) ** 0.5))
    for hour in range(0, 24, 3):
        c.text(MARGIN, top + hour * cell_h + 34, f"{hour:02d}", 28, fill=MUTED)
    y = top + 24 * cell_h + 70
    c.text(left, y, "less", 28, fill=MUTED)
    for i in range(6):
        x = left + 76 + i * 52
        c.draw.rounded_rectangle((x, y - 30, x + 44, y + 4), 8, fill=_heat(c, i / 5))
    c.text(left + 76 + 6 * 52 + 12, y, "more time" if timed else "more plays", 28, fill=MUTED)
    c.text(WIDTH - MARGIN, y, clock.zone, 28, fill=MUTED, align="right", max_width=INNER - 560)
    return None


def _discoveries_card(c: Canvas, recap: Recap) -> None:
    found = recap.discoveries
    _chrome(c, recap, "Discoveries", "New to you")
    half = (INNER - 24) / 2
    _stat(c, MARGIN, 520, half, f"{found.artist_count:,}", "new artists")
    _stat(c, MARGIN + half + 24, 520, half, f"{found.track_count:,}", "new tracks")
    if not found.artists:
        return c.empty("Nothing new this time: you stayed with what you love.")
    c.text(MARGIN, 790, "BEST FINDS", 30, bold=True, fill=MUTED)
    for i, artist in enumerate(found.artists[:5]):
        y = 890 + i * 150
        c.text(MARGIN, y, artist.name, 54, bold=True, min_size=40)
        c.text(MARGIN, y + 50, f"first heard {txt.day(artist.first_local.date())}  ·  {artist.plays:,} plays", 32,
               fill=MUTED)  # fmt: skip
    return None


def _eras_card(c: Canvas, recap: Recap) -> None:
    first, last = recap.history_first_day, recap.history_last_day
    span = f"YOUR HISTORY {first.year}–{last.year}" if first and last and first.year != last.year else None
    _chrome(c, recap, "Eras", "Your eras", span)
    if not recap.eras:
        return c.empty("Not enough history yet to tell eras apart.")
    eras = sorted(recap.eras, key=lambda e: e.start)
    shown = sorted(sorted(eras, key=lambda e: -e.ms_played)[:5], key=lambda e: e.start)
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
    y, x, width = 560.0, MARGIN + 64, INNER - 64
    step = min(560.0, (HEIGHT - 320 - y) / len(shown))
    c.draw.line((MARGIN + 14, y, MARGIN + 14, y + step * (len(shown) - 1)), fill=FAINT, width=4)
    for era in shown:
        now = era.start <= end and era.end >= start  # the era overlaps this recap's period
        c.draw.ellipse((MARGIN, y - 14, MARGIN + 28, y + 14), fill=colour(0, now))
        span = txt.month(era.start) if era.start == era.end else f"{txt.month(era.start)} – {txt.month(era.end)}"
        label = span.upper() + ("  ·  THIS RECAP" if now and bounded else "")
        c.text(x, y + 11, label, 28, bold=True, fill=c.accent() if now else MUTED)
        name_y = c.lines(x, y + 64, era.name, 44, 2, min_size=34, max_width=width)
        hours = f"  ·  {txt.duration(era.ms_played)}" if era.ms_played else ""
        c.text(x, name_y + 46, f"{era.plays:,} plays{hours}", 30, fill=MUTED)
        for i, (artist, share) in enumerate(zip(era.artists, era.shares, strict=False) if step >= 450 else ()):
            row = name_y + 130 + i * 96  # what the era was made of: each defining artist's share of its time
            c.text(x, row, artist, 34, bold=True, max_width=width - 120)
            c.text(WIDTH - MARGIN, row, f"{share:.0%}", 34, bold=True, fill=c.accent(), align="right")
            c.draw.rounded_rectangle((x, row + 22, x + width, row + 36), 7, fill=FAINT)
            c.draw.rounded_rectangle((x, row + 22, x + max(14, width * share), row + 36), 7, fill=c.accent())
        y += step
    if len(eras) > len(shown):
        c.text(MARGIN, HEIGHT - 250, f"the {len(shown)} biggest of {len(eras)} eras", 28, fill=MUTED)
    return None


def _habits_card(c: Canvas, recap: Recap) -> None:
    s, streak, sessions, busiest = recap.skips, recap.streak, recap.sessions, recap.busiest_day
    _chrome(c, recap, "Habits", "How you listen")
    unknown = "not recorded in this export"
    recorded = "of events that record it"
    streak_days = txt.days(streak.start, streak.end) if streak.start and streak.end else "no streak yet"
    platform = s.platforms[0] if s.platforms else None
    longest = sessions.longest
    skipped = unknown if s.rate is None else f"{s.skipped:,} of {s.events_with_skip_info:,} events"
    tiles = [
        (txt.percent(s.rate), "skipped", skipped),
        (txt.percent(s.shuffle_share), "on shuffle", unknown if s.shuffle_share is None else recorded),
        (f"{streak.days:,}", "days in a row", streak_days),
        (f"{round(sessions.median_minutes)} min", "a typical session", f"median of {sessions.count:,} sessions"),
        (txt.amount(busiest.ms_played, busiest.plays) if busiest else "—", "busiest day",
         txt.day(busiest.day) if busiest else "no plays"),
        (txt.duration(round(longest.minutes * 60_000)) if longest else "—", "longest session",
         txt.day(longest.start_local.date()) if longest else "no sessions"),
        (txt.percent(s.offline_share), "offline", unknown if s.offline_share is None else recorded),
        (txt.percent(platform.share) if platform else "—", f"on {platform.name}" if platform else "device",
         f"{platform.events:,} events" if platform else unknown),
    ]  # fmt: skip
    half = (INNER - 24) / 2
    for i, (value, label, note) in enumerate(tiles):
        _stat(c, MARGIN + (i % 2) * (half + 24), 500 + (i // 2) * 330, half, value, label, note)


THEMES = {
    "minutes": Theme((43, 22, 84), (16, 10, 38), (255, 122, 89), (120, 70, 180)),
    "top-artist": Theme((12, 58, 66), (6, 24, 30), (246, 196, 83), (40, 120, 120)),
    "top-tracks": Theme((70, 20, 62), (28, 8, 30), (127, 209, 185), (150, 60, 130)),
    "clock": Theme((20, 34, 74), (8, 14, 34), (255, 179, 71), (214, 64, 112)),
    "discoveries": Theme((22, 64, 44), (8, 26, 20), (198, 242, 107), (60, 140, 90)),
    "eras": Theme((74, 40, 22), (30, 14, 10), (255, 159, 90), (170, 90, 50)),
    "habits": Theme((34, 34, 58), (12, 12, 24), (134, 180, 255), (90, 90, 160)),
}
CARDS: dict[str, Callable[[Canvas, Recap], None]] = {
    "minutes": _minutes_card,
    "top-artist": _top_artist_card,
    "top-tracks": _top_tracks_card,
    "clock": _clock_card,
    "discoveries": _discoveries_card,
    "eras": _eras_card,
    "habits": _habits_card,
}


def draw_cards(recap: Recap, fonts: FontSet | None = None) -> list[Card]:
    """Every card of ``recap``, drawn in memory, in story order; none for a period with too little to tell."""
    if recap.coverage and not recap.coverage.tellable:
        return []
    cards = []
    for number, (name, draw) in enumerate(CARDS.items(), start=1):
        canvas = Canvas(f"{number:02d}-{name}", THEMES[name], fonts or default_fonts())
        draw(canvas, recap)
        cards.append(canvas.card)
    return cards


def render_cards(recap: Recap, out_dir: Path, fonts: FontSet | None = None) -> list[Path]:
    """Write every card of ``recap`` to ``out_dir`` as ``tutti-<period>-NN-<card>.png``; return the paths."""
    return write_cards(draw_cards(recap, fonts), recap.period, out_dir)


def write_cards(cards: list[Card], period: str, out_dir: Path) -> list[Path]:
    """Save ``cards`` as ``tutti-<period>-NN-<card>.png`` in ``out_dir`` (created if needed)."""
    stem = re.sub(r"[^\w.-]+", "_", period)
    paths = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for card in cards:
            path = out_dir / f"tutti-{stem}-{card.name}.png"
            card.image.save(path, "PNG")
            paths.append(path)
    except OSError as exc:
        raise UsageError(f"cannot write the cards to {out_dir}: {exc.strerror or exc}") from None
    return paths
