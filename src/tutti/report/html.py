"""The recap as one self-contained HTML page: styles, chart specs and the chart library inlined, nothing fetched.

The page opens offline and makes no request of any kind: vega-embed, Vega-Lite and Vega come from
``vl_convert.javascript_bundle()``, fonts are the system's, and a Content-Security-Policy forbids the rest.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from datetime import date, datetime
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import altair as alt
import jinja2
import orjson
import platformdirs
import vl_convert
from markupsafe import Markup, escape

from tutti import __version__
from tutti.errors import UsageError
from tutti.insights.recap import Recap
from tutti.report.charts import (
    WEEKDAYS,
    Chart,
    best_month,
    clock_chart,
    daily_chart,
    devices_chart,
    eras_chart,
    monthly_chart,
    skip_rate_chart,
)
from tutti.report.coverage import nothing_to_tell, partial_note, span_line

BUNDLE_SNIPPET = "window.vegaEmbed = vegaEmbed; window.vegaLite = vegaLite; window.vega = vega;"
CHART_KEYS = ("clock", "monthly", "daily", "eras", "skips", "devices")
# A period starting this close to the history's start makes most things "new".
NEW_ARTIST_WARNING_DAYS = 90


@functools.cache
def javascript_bundle() -> str:
    """vega-embed, Vega-Lite (Altair's version) and Vega as one script, safe to inline in a page.

    URLs inside the bundle are string constants (SVG namespaces, links of the unused editor action); their
    ``//`` is written ``\\/\\/`` (the same string in JavaScript) so that no URL appears in the page's text.
    A ``</script`` would end the inline element early: it is written ``<\\/script`` (same string, same regex).
    """
    version = ".".join(alt.SCHEMA_VERSION.split(".")[:2])
    # Building the bundle takes about a second; it depends only on the library versions, so it is kept on disk.
    cached = Path(platformdirs.user_cache_dir("tutti", appauthor=False)) / (
        f"vega-bundle-{metadata.version('vl-convert-python')}-{version}-{hashlib.sha256(BUNDLE_SNIPPET.encode()).hexdigest()[:12]}.js"
    )
    try:
        return cached.read_text(encoding="utf-8")
    except OSError:
        pass
    known = {f"v{v}" for v in vl_convert.get_vegalite_versions()}
    bundle = vl_convert.javascript_bundle(BUNDLE_SNIPPET, vl_version=version if version in known else None)
    safe = re.sub("</(script)", r"<\\/\1", bundle.replace("://", ":\\/\\/"), flags=re.IGNORECASE)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(safe, encoding="utf-8")
        partial.replace(cached)
    except OSError:
        pass  # a read-only cache folder only costs the second again next time
    return safe


def _template(name: str) -> str:
    return (resources.files("tutti.report") / "templates" / name).read_text(encoding="utf-8")


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tutti.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters.update(
        n=lambda value: f"{int(value):,}",
        minutes=lambda ms: f"{round(ms / 60_000):,}",
        hours=lambda ms: f"{ms / 3_600_000:,.1f}",
        duration=_duration,
        pct=_percent,
        share=lambda value, top: f"{max(0.0, min(100.0, 100 * value / top)) if top else 0:.1f}",
        day=_day,
        dayshort=_day_short,
        dayabbr=lambda day: f"{day:%a} {_day_short(day)}",
        clock=lambda moment: f"{moment:%H:%M}",
        stamp=lambda moment: f"{moment:%Y-%m-%d %H:%M} UTC",
        days_of_sound=_days_of_sound,
        plural=lambda count, noun: f"{int(count):,} {noun if count == 1 else noun + 's'}",
        month=lambda month: f"{date(int(month[:4]), int(month[5:7]), 1):%b %Y}",
        basename=lambda path: str(path).replace("\\", "/").rsplit("/", 1)[-1].rsplit("!", 1)[-1],
        service=_service,
        spec_json=_spec_json,
        keep_dates=_keep_dates,
    )
    return env


_DATES = re.compile(r"\d{4}-\d{2}-\d{2}(?:\.\.\d{4}-\d{2}-\d{2})?")


def _keep_dates(text: str) -> Markup:
    """``text`` escaped, each ISO day or range of days kept on one line (a browser may otherwise break a line at
    its hyphens, leaving "2023-01-" on one line and "01" on the next)."""
    escaped = str(escape(text))
    return Markup(_DATES.sub(lambda m: f'<span class="nowrap">{m[0]}</span>', escaped))


def _duration(minutes: float) -> str:
    whole = round(minutes)
    if whole < 60:
        return f"{whole} min"
    return f"{whole // 60:,} h {whole % 60:02d} min"


def _percent(share: float) -> str:
    value = 100 * share
    return f"{value:.1f}%" if 0 < value < 10 else f"{value:.0f}%"


def _day(day: date | datetime) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _day_short(day: date | datetime) -> str:
    return f"{day.day} {day:%b %Y}"


def _days_of_sound(ms: int) -> str:
    days = ms / 86_400_000
    if days >= 1:
        return f"{days:,.1f} days of sound, end to end"
    return f"{ms / 3_600_000:,.1f} hours of sound"


def _service(source: str) -> str:
    return "Spotify" if "spotify" in source else source.replace("_", " ").title()


def _spec_json(spec: dict[str, Any]) -> Markup:
    """JSON that cannot close its <script> element: <, > and & are written as JSON escapes."""
    text = orjson.dumps(spec).decode()
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def told_in_plays(recap: Recap) -> bool:
    """Whether the recap measures in plays (``Recap.measure``): when most events carry no time played."""
    return recap.measure == "plays"


def recap_charts(recap: Recap) -> dict[str, Chart]:
    """Every chart the recap has data for, by key, in page order."""
    by_plays = told_in_plays(recap)
    built = [
        clock_chart(recap.clock, by_plays),
        monthly_chart(recap.monthly, by_plays),
        daily_chart(recap.daily, recap.busiest_day, by_plays),
        eras_chart(recap.eras),
        skip_rate_chart(recap.skips.by_month),
        devices_chart(recap.skips.platforms),
    ]
    return {chart.key: chart for chart in built if chart is not None}


def _titles(recap: Recap) -> tuple[str, str]:
    """The page title and the short name of the period used inside sentences."""
    label = recap.period
    first, last = recap.period_first_day, recap.period_last_day
    if label == "all":
        return "All your listening", "your history"
    if label.isdigit():
        return label, label
    if first and last and first.day == 1 and len(label) == 7 and label[4] == "-":
        name = f"{first:%B %Y}"
        return name, name
    return label, label


def _span(recap: Recap) -> tuple[str, str]:
    """A sentence for the cover, and the period's days for the method card."""
    t, c = recap.totals, recap.coverage
    # the days the data covers, not the calendar's: a year whose export starts in August tells August on
    first = (c.covered_first_day if c else None) or recap.period_first_day or t.first_day
    last = (c.covered_last_day if c else None) or recap.period_last_day or t.last_day
    days = f"{_day_short(first)} – {_day_short(last)}" if first and last else ""
    if not t.events:
        return f"No listening stored for {days or 'this period'}.", days
    heard = f"{t.artists:,} artists" if t.artists else f"{t.events:,} listening events"
    amount = f"{t.plays:,} plays" if told_in_plays(recap) else f"{round(t.ms_played / 60_000):,} minutes"
    return f"{days}: {amount}, {heard}, told from your own exports.", days


def _clock_headline(recap: Recap) -> str:
    day, hour = recap.clock.peak_weekday, recap.clock.peak_hour
    if day is None or hour is None:
        return "When you listen"
    part = "night" if hour < 5 else "morning" if hour < 12 else "afternoon" if hour < 17 else "evening"
    if hour >= 22:
        part = "night"
    return f"{WEEKDAYS[day - 1]} {part}s, around {hour:02d}:00"


def _monthly_headline(recap: Recap) -> str:
    if not recap.monthly:
        return "Month by month"
    best = best_month(recap.monthly, told_in_plays(recap))
    year, month = (int(part) for part in best.month.split("-"))
    return f"{date(year, month, 1):%B %Y} was your loudest month"


def _headline(recap: Recap) -> str:
    if told_in_plays(recap):
        return f"{recap.totals.plays:,} plays"
    hours = recap.totals.ms_played / 3_600_000
    if hours >= 240:
        return f"{hours / 24:,.0f} days of music and more"
    return f"{hours:,.0f} hours of listening"


def _discovery_caveat(recap: Recap) -> str:
    start = recap.history_first_day
    if start is None:
        return "New means first heard in the history stored here."
    caveat = (
        f"New means first heard in the history stored here, which begins on {_day_short(start)}: "
        "an artist you loved before that day counts as new the first time it shows up."
    )
    first = recap.period_first_day
    if first is None or (first - start).days < NEW_ARTIST_WARNING_DAYS:
        caveat += " This period starts at (or near) the beginning of that history, so most of it looks new."
    return caveat


def render_recap_html(recap: Recap) -> str:
    """The whole page as a string."""
    charts = recap_charts(recap)
    by_plays = told_in_plays(recap)
    title, short_title = _titles(recap)
    span, span_days = _span(recap)
    by_time = (recap.top_artists, recap.top_artists_by_plays), (recap.top_tracks, recap.top_tracks_by_plays)
    artists, tracks = ((lists[1], lists[0]) for lists in by_time) if by_plays else by_time
    template = _environment().get_template("recap.html.j2")
    return template.render(
        recap=recap,
        by_plays=by_plays,
        artists=artists,
        tracks=tracks,
        version=__version__,
        title=title,
        short_title=short_title,
        span=span,
        span_days=span_days,
        headline=_headline(recap),
        partial_note=partial_note(recap),
        span_line=span_line(recap),
        nothing=nothing_to_tell(recap) or ("" if recap.totals.events else "No listening in this period."),
        covered_days=recap.coverage.covered_days if recap.coverage else recap.totals.days_in_period,
        clock_headline=_clock_headline(recap),
        monthly_headline=_monthly_headline(recap),
        discovery_caveat=_discovery_caveat(recap),
        charts={key: charts.get(key) for key in CHART_KEYS},
        chart_list=list(charts.values()),
        css=Markup(_template("recap.css")),
        bundle=Markup(javascript_bundle()) if charts else "",
        bootstrap=Markup(_template("recap.js")),
    )


def write_recap_html(recap: Recap, path: Path) -> Path:
    """Write the page to ``path`` (creating its folder) and return the path; a path that cannot be written is a
    ``UsageError`` naming it."""
    page = render_recap_html(recap)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the recap to {path}: {exc.strerror or exc}") from None
    return path
