"""The recap's charts as Vega-Lite specs (built with Altair), each with a text alternative: a one-sentence
description and the table of the numbers it draws, so a chart says the same thing to a screen reader, to a
browser without scripts and to a reader checking a figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import altair as alt

from tutti.insights.clock import Clock
from tutti.insights.eras import Era
from tutti.insights.series import BusiestDay, DayPoint, MonthPoint
from tutti.insights.skips import MonthSkips, Share

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
INK, MUTED, GRID = "#1b1a2e", "#55536a", "#e7e3dc"
INDIGO, CORAL, TEAL, PLUM, GOLD = "#4338ca", "#c2410c", "#0f766e", "#86198f", "#b45309"
HEAT = ["#f1efff", "#c7c2fb", "#8b83ef", "#5b4fd6", "#312e81"]
ORDINAL_MONTHS = 24
ERA_COLOURS = [INDIGO, CORAL, TEAL, PLUM, GOLD, "#1d4ed8", "#be123c", "#4d7c0f"]


@dataclass(frozen=True)
class Chart:
    """One chart: its Vega-Lite spec and the same data as text."""

    key: str  # unique within a report; names the container and the spec
    title: str
    description: str  # a sentence saying what the chart shows, read out as its label
    spec: dict[str, Any]  # Vega-Lite JSON, for vega-embed
    columns: tuple[str, ...]  # the text alternative: a table of exactly the plotted numbers
    rows: Sequence[tuple[str, ...]]


def _minutes(ms: int) -> float:
    return round(ms / 60_000, 1)


def _hours(ms: int) -> float:
    return round(ms / 3_600_000, 1)


def _config(
    chart: alt.Chart | alt.LayerChart, description: str, height: int, **datasets: Sequence[Mapping[str, object]]
) -> dict[str, Any]:
    """Shared look: system fonts, quiet axes, full container width; no schema URL in the page.

    Data is named in the chart and attached after Altair has checked the spec: checking thousands of data
    points against the schema would take most of a second and proves nothing about them.
    """
    spec: dict[str, Any] = (
        chart.properties(width="container", height=height, description=description)
        .configure(font=FONT, background="transparent", autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
        .configure_view(stroke=None)
        .configure_axis(
            labelColor=MUTED,
            titleColor=MUTED,
            gridColor=GRID,
            domainColor=GRID,
            tickColor=GRID,
            labelFontSize=12,
            titleFontSize=12,
            titleFontWeight="normal",
        )
        .configure_legend(labelColor=MUTED, titleColor=MUTED, labelFontSize=12, titleFontSize=12)
        .to_dict()
    )
    spec.pop("$schema", None)
    spec["datasets"] = datasets
    return spec


def clock_chart(clock: Clock, by_plays: bool = False) -> Chart | None:
    """A weekday x hour heatmap of minutes listened (of plays, when the exports do not time them)."""
    if not any(c.ms_played or c.plays for c in clock.cells):
        return None
    measure = "plays" if by_plays else "minutes"
    values = [
        {"day": WEEKDAYS[c.weekday - 1][:3], "hour": c.hour, "minutes": _minutes(c.ms_played), "plays": c.plays}
        for c in clock.cells
    ]
    days = [d[:3] for d in WEEKDAYS]
    heat = (
        alt.Chart(alt.NamedData(name="values"))
        .mark_rect(cornerRadius=2, stroke="#ffffff", strokeWidth=1)
        .encode(
            x=alt.X("hour:O", title="hour of the day", axis=alt.Axis(labelAngle=0, values=list(range(0, 24, 3)))),
            y=alt.Y("day:O", sort=days, title=None),
            color=alt.Color(f"{measure}:Q", title=measure, scale=alt.Scale(range=HEAT), legend=None),
            tooltip=[
                alt.Tooltip("day:N"),
                alt.Tooltip("hour:O"),
                alt.Tooltip("minutes:Q", format=",.0f"),
                alt.Tooltip("plays:Q", format=","),
            ],
        )
    )
    peak = ""
    if clock.peak_weekday is not None and clock.peak_hour is not None:
        hours = f"{clock.peak_hour:02d}:00-{clock.peak_hour + 1:02d}:00"
        peak = f" The busiest hour is {WEEKDAYS[clock.peak_weekday - 1]} {hours}."
    description = f"{measure.capitalize()} for each hour of each weekday ({clock.zone} time).{peak}"
    by_day: dict[int, list[str]] = {}
    for cell in clock.cells:
        by_day.setdefault(cell.weekday, []).append(f"{cell.plays:,}" if by_plays else f"{_minutes(cell.ms_played):g}")
    rows = [(WEEKDAYS[day - 1], *cells) for day, cells in sorted(by_day.items())]
    columns = (f"day ({measure})", *(f"{h:02d}h" for h in range(24)))
    return Chart("clock", "Listening clock", description, _config(heat, description, 210, values=values), columns, rows)


def monthly_chart(months: list[MonthPoint], by_plays: bool = False) -> Chart | None:
    """Hours listened per month (plays, when the exports do not time them)."""
    if not months:
        return None
    measure = "plays" if by_plays else "hours"
    values = [
        {"month": f"{m.month}-01", "label": _month_name(m.month), "hours": _hours(m.ms_played), "plays": m.plays}
        for m in months
    ]
    if len(months) <= ORDINAL_MONTHS:  # one labelled bar per month
        order = [_month_name(m.month) for m in months]
        x = alt.X("label:O", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelOverlap=True))
    else:
        axis = _time_axis(_first_of(months[0].month), _first_of(months[-1].month))
        x = alt.X("utcyearmonth(month):T", title=None, axis=axis)
    bars = (
        alt.Chart(alt.NamedData(name="values"))
        .mark_bar(color=INDIGO, cornerRadiusTopLeft=3, cornerRadiusTopRight=3)
        .encode(
            x=x,
            y=alt.Y(f"{measure}:Q", title=measure),
            tooltip=[
                alt.Tooltip("utcyearmonth(month):T", title="month", format="%B %Y"),
                alt.Tooltip("hours:Q", format=",.1f"),
                alt.Tooltip("plays:Q", format=","),
            ],
        )
    )
    best = best_month(months, by_plays)
    amount = f"{best.plays:,} plays" if by_plays else f"{_hours(best.ms_played):,g} hours"
    description = (
        f"{measure.capitalize()} in each of {len(months)} months; the most was {amount} in {_month_name(best.month)}."
    )
    rows = [(_month_name(m.month), f"{_hours(m.ms_played):,g}", f"{m.plays:,}", f"{m.artists:,}") for m in months]
    spec = _config(bars, description, 220, values=values)
    return Chart("monthly", "Month by month", description, spec, ("month", "hours", "plays", "artists"), rows)


def best_month(months: list[MonthPoint], by_plays: bool = False) -> MonthPoint:
    """The month with the most time (or plays), the earliest on a tie."""
    return min(
        months, key=lambda m: (-m.plays, -m.ms_played, m.month) if by_plays else (-m.ms_played, -m.plays, m.month)
    )


def daily_chart(days: list[DayPoint], busiest: BusiestDay | None, by_plays: bool = False) -> Chart | None:
    """Minutes listened per day (plays, when the exports do not time them), the busiest day marked."""
    if len(days) < 2:
        return None
    measure = "plays" if by_plays else "minutes"
    values = [{"day": d.day.isoformat(), "minutes": _minutes(d.ms_played), "plays": d.plays} for d in days]
    x = alt.X("utcyearmonthdate(day):T", title=None, axis=_time_axis(days[0].day, days[-1].day))
    y = alt.Y(f"{measure}:Q", title=measure)
    tooltip = [
        alt.Tooltip("utcyearmonthdate(day):T", title="day", format="%a %d %b %Y"),
        alt.Tooltip("minutes:Q", format=",.0f"),
        alt.Tooltip("plays:Q", format=","),
    ]
    layers: list[alt.Chart] = [
        alt.Chart(alt.NamedData(name="values")).mark_bar(color=TEAL).encode(x=x, y=y, tooltip=tooltip)
    ]
    description = f"{measure.capitalize()} on each of {len(days):,} days with listening"
    marked: list[dict[str, object]] = []
    if busiest is not None:
        marked = [{"day": busiest.day.isoformat(), "minutes": _minutes(busiest.ms_played), "plays": busiest.plays}]
        layers.append(
            alt.Chart(alt.NamedData(name="marked"))
            .mark_point(color=CORAL, filled=True, size=90, opacity=1)
            .encode(x=x, y=y, tooltip=tooltip)
        )
        amount = f"{busiest.plays:,} plays" if by_plays else f"{_minutes(busiest.ms_played):,g} minutes"
        description += f"; the busiest, {_day(busiest.day)}, is marked ({amount})"
    description += "."
    rows = [(d.day.isoformat(), f"{_minutes(d.ms_played):,g}", f"{d.plays:,}") for d in days]
    spec = _config(alt.LayerChart(layer=layers), description, 160, values=values, marked=marked)
    return Chart("daily", "Day by day", description, spec, ("day", "minutes", "plays"), rows)


def eras_chart(eras: list[Era]) -> Chart | None:
    """The eras of the whole history on a time line, one row each."""
    if not eras:
        return None
    values = [
        {
            "era": f"{i + 1}. {e.artists[0] if e.artists else e.name}",
            "name": e.name,
            "start": f"{e.start}-01",
            "end": _month_after(e.end),
            "artists": ", ".join(e.artists[:3]),
            "hours": _hours(e.ms_played),
        }
        for i, e in enumerate(eras)
    ]
    order = [str(v["era"]) for v in values]
    first, last = _first_of(eras[0].start), _first_of(_month_after(eras[-1].end))
    bars = (
        alt.Chart(alt.NamedData(name="values"))
        .mark_bar(cornerRadius=4, height={"band": 0.7})
        .encode(
            x=alt.X("start:T", title=None, scale=alt.Scale(type="utc"), axis=_time_axis(first, last, grid=True)),
            x2="end:T",
            y=alt.Y("era:N", sort=order, title=None, axis=alt.Axis(labelLimit=140)),
            color=alt.Color("era:N", sort=order, legend=None, scale=alt.Scale(range=ERA_COLOURS)),
            tooltip=[
                alt.Tooltip("name:N", title="era"),
                alt.Tooltip("artists:N"),
                alt.Tooltip("hours:Q", format=",.1f"),
            ],
        )
    )
    description = (
        f"{len(eras)} {'era' if len(eras) == 1 else 'eras'} of your listening from {_month_name(eras[0].start)} "
        f"to {_month_name(eras[-1].end)}, each named for what filled it."
    )
    rows = [
        (e.name, _month_name(e.start), _month_name(e.end), ", ".join(e.artists), f"{_hours(e.ms_played):,g}")
        for e in eras
    ]
    spec = _config(bars, description, max(60, 30 * len(eras)), values=values)
    return Chart("eras", "Eras", description, spec, ("era", "from", "to", "artists", "hours"), rows)


def skip_rate_chart(months: list[MonthSkips]) -> Chart | None:
    """The share of events skipped, month by month (only months whose events say whether they were skipped)."""
    if len(months) < 2:
        return None
    values = [{"month": f"{m.month}-01", "rate": m.rate, "skipped": m.skipped, "events": m.events} for m in months]
    first, last = _first_of(months[0].month), _first_of(months[-1].month)
    line = (
        alt.Chart(alt.NamedData(name="values"))
        .mark_line(color=CORAL, strokeWidth=2.5, point=alt.OverlayMarkDef(color=CORAL, size=30))
        .encode(
            x=alt.X("utcyearmonth(month):T", title=None, axis=_time_axis(first, last)),
            y=alt.Y("rate:Q", title="skipped", axis=alt.Axis(format="%", tickCount=5), scale=alt.Scale(zero=True)),
            tooltip=[
                alt.Tooltip("utcyearmonth(month):T", title="month", format="%B %Y"),
                alt.Tooltip("rate:Q", format=".0%"),
                alt.Tooltip("skipped:Q", format=","),
                alt.Tooltip("events:Q", format=","),
            ],
        )
    )
    high = max(months, key=lambda m: m.rate)
    description = (
        f"Share of events skipped in each of {len(months)} months; "
        f"highest {high.rate:.0%} in {_month_name(high.month)}."
    )
    rows = [(_month_name(m.month), f"{m.rate:.1%}", f"{m.skipped:,}", f"{m.events:,}") for m in months]
    spec = _config(line, description, 180, values=values)
    return Chart("skips", "Skips over time", description, spec, ("month", "skipped share", "skipped", "events"), rows)


def devices_chart(platforms: list[Share]) -> Chart | None:
    """Share of events per kind of device."""
    if not platforms:
        return None
    shown = platforms[:8]
    values = [{"device": p.name, "share": p.share, "events": p.events, "hours": _hours(p.ms_played)} for p in shown]
    bars = (
        alt.Chart(alt.NamedData(name="values"))
        .mark_bar(color=PLUM, cornerRadiusTopRight=3, cornerRadiusBottomRight=3)
        .encode(
            x=alt.X("share:Q", title="share of events", axis=alt.Axis(format="%", tickCount=5)),
            y=alt.Y("device:N", sort="-x", title=None),
            tooltip=[
                alt.Tooltip("device:N"),
                alt.Tooltip("share:Q", format=".1%"),
                alt.Tooltip("events:Q", format=","),
                alt.Tooltip("hours:Q", format=",.1f"),
            ],
        )
    )
    top = shown[0]
    description = f"Share of listening events per kind of device; {top.name} leads with {top.share:.0%}."
    rows = [(p.name, f"{p.share:.1%}", f"{p.events:,}", f"{_hours(p.ms_played):,g}") for p in shown]
    spec = _config(bars, description, max(60, 28 * len(shown)), values=values)
    return Chart("devices", "Devices", description, spec, ("device", "share", "events", "hours"), rows)


def _time_axis(first: date, last: date, grid: bool = False) -> alt.Axis:
    """Ticks at months or years, never more than about eight, labelled once each."""
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months <= 24:
        step = next(s for s in (1, 2, 3, 6, 12) if months / s <= 8)
        return alt.Axis(
            format="%b %Y",
            tickCount={"interval": "month", "step": step},
            labelOverlap="greedy",
            labelSeparation=8,
            grid=grid,
        )
    years = last.year - first.year + 1
    step = next(s for s in (1, 2, 5, 10, 20) if years / s <= 8)
    return alt.Axis(
        format="%Y", tickCount={"interval": "year", "step": step}, labelOverlap="greedy", labelSeparation=8, grid=grid
    )


def _first_of(month: str) -> date:
    year, number = month.split("-")[:2]
    return date(int(year), int(number), 1)


def _month_name(month: str) -> str:
    year, number = month.split("-")[:2]
    return f"{date(int(year), int(number), 1):%b %Y}"


def _month_after(month: str) -> str:
    year, number = (int(part) for part in month.split("-")[:2])
    return f"{year + number // 12}-{number % 12 + 1:02d}-01"


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"
