"""Commands that tell a history: summary, recap (HTML page or JSON) and share cards."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tutti.cli._common import (
    HomeOption,
    JsonOption,
    PeriodArgument,
    PlainHelpCommand,
    ProfileOption,
    RuleOption,
    TzOption,
    console,
    err_console,
    opened_store,
    print_json,
)
from tutti.errors import UsageError
from tutti.insights.period import Period
from tutti.insights.recap import Recap, build_recap
from tutti.insights.rules import rule_named
from tutti.insights.scope import open_scope
from tutti.insights.summary import Summary, summary
from tutti.insights.zones import zone_plan_for
from tutti.settings import default_profile
from tutti.store import Store


def draw_summary(s: Summary) -> None:
    table = Table(title=f"Listening history of {s.profile}", show_header=False)
    hours = s.ms_played / 3_600_000
    table.add_row("listening events", f"{s.events:,}")
    table.add_row("time played (measured)", f"{hours:,.1f} hours ({s.ms_played:,} ms)")
    table.add_row(f"plays ({s.rule})", f"{s.plays:,}")
    table.add_row("first / last", f"{s.first_utc or '-'} / {s.last_utc or '-'} (UTC)")
    table.add_row("artists / tracks among plays", f"{s.artists:,} / {s.tracks:,}")
    table.add_row("copies merged", f"{s.merged_duplicates:,}")
    for src in s.by_source:
        table.add_row(f"from {src.source}", f"{src.events:,} events, {src.ms_played / 3_600_000:,.1f} h")
    for kind in s.by_kind:
        table.add_row(f"{kind.content_kind}", f"{kind.events:,} events, {kind.ms_played / 3_600_000:,.1f} h")
    console.print(table)
    console.print(f"[dim]play rule {s.rule}: {s.rule_description}[/]")


def summary_command(
    profile: ProfileOption = None,
    home: HomeOption = None,
    rule: RuleOption = "default",
    json: JsonOption = False,
) -> None:
    """Headline numbers of a profile: events, time, plays, span, artists, tracks, per source."""
    who = profile or default_profile()
    with opened_store(home) as store:
        result = summary(store, who, rule_named(rule))
    if json:
        print_json(asdict(result))
    else:
        draw_summary(result)


def _recap(store: Store, who: str, period: str, rule: str, tz: str | None, top: int = 10) -> Recap:
    zones = zone_plan_for(store, who, tz)
    scope = open_scope(store, who, Period.parse(period), rule_named(rule), zones)
    try:
        return build_recap(scope, top)
    finally:
        scope.close()


def _slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z_-]+", "_", text)


def _refuse_too_little(recap: Recap) -> None:
    """A period with too little to tell is an error (exit 1), said in one sentence."""
    from tutti.report.coverage import nothing_to_tell

    if nothing := nothing_to_tell(recap):
        raise UsageError(nothing)


def _tell_coverage(recap: Recap) -> None:
    """Say on stderr what the recap stands on; refuse (exit 1) a period with too little to tell."""
    from tutti.report.coverage import partial_note, span_line

    _refuse_too_little(recap)
    if note := partial_note(recap):
        err_console.print(f"[yellow]{escape(note)}[/]", highlight=False)
    elif line := span_line(recap):
        err_console.print(f"[dim]{escape(line)}[/]", highlight=False)


def recap_command(
    period: PeriodArgument,
    profile: ProfileOption = None,
    home: HomeOption = None,
    tz: TzOption = None,
    rule: RuleOption = "default",
    top: Annotated[int, typer.Option("--top", min=1, metavar="N", help="Entries per top list.")] = 10,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="FILE", help="HTML file to write (default: recaps/ in the store folder)."),
    ] = None,
    open_page: Annotated[bool, typer.Option("--open", help="Open the page in the web browser.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the recap as JSON instead of writing the page.")] = False,
) -> None:
    """A period's story as one self-contained HTML page that opens offline; or its figures as JSON.

    A period with fewer than 5 plays still gets its page (or JSON), which says so, and the command exits 1.
    """
    import webbrowser

    from tutti.insights.recap import recap_to_json
    from tutti.report.html import write_recap_html  # Altair and the chart bundle load only for this command

    who = profile or default_profile()
    with opened_store(home) as store, err_console.status("building the recap"):
        recap = _recap(store, who, period, rule, tz, top)
        folder = store.path.parent if store.path else Path.cwd()
    if json:
        print_json(recap_to_json(recap))
        _tell_coverage(recap)
        return
    target = out or folder / "recaps" / f"{who}-{_slug(recap.period)}.html"
    with err_console.status("drawing the page"):
        written = write_recap_html(recap, target)
    console.print(str(written), highlight=False)
    err_console.print(
        f"[dim]play rule {recap.rule}; ranked by {recap.measure}; time zone {recap.zone}: {recap.zone_note}[/]",
        highlight=False,
    )
    _tell_coverage(recap)
    if open_page:
        webbrowser.open(written.resolve().as_uri())


def cards_command(
    period: PeriodArgument,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FOLDER",
            help="Folder to write the cards to (default: cards/PROFILE-PERIOD/ in the store folder).",
        ),
    ] = None,
    profile: ProfileOption = None,
    home: HomeOption = None,
    tz: TzOption = None,
    rule: RuleOption = "default",
    size: Annotated[str, typer.Option(metavar="SIZE", help="story (1080x1920), square (1080x1080) or both.")] = "both",
) -> None:
    """Draw a period's recap as cards to share, the ones its data supports (PNG, story and square sizes); print
    the files written. A period with fewer than 5 plays gets no cards: the command says so and exits 1."""
    from tutti.report.cards import SIZES, draw_cards, write_cards  # Pillow and fonts load only for this command

    sizes = tuple(SIZES) if size == "both" else (size,)
    if any(s not in SIZES for s in sizes):
        raise UsageError(f"unknown card size {size!r}; choose story, square or both")
    who = profile or default_profile()
    with opened_store(home) as store:
        recap = _recap(store, who, period, rule, tz)
        folder = store.path.parent if store.path else Path.cwd()
    _refuse_too_little(recap)
    missing: set[str] = set()
    for one in sizes:
        cards = draw_cards(recap, size=one)
        for path in write_cards(cards, recap, one, out or folder / "cards" / f"{who}-{_slug(recap.period)}"):
            console.print(str(path), highlight=False)
        missing |= set().union(*(card.missing for card in cards))
    _tell_coverage(recap)
    if missing:
        err_console.print(
            f"[yellow]no font found for {' '.join(sorted(missing))}: drawn as \ufffd; install a font that has them[/]",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.command("summary", cls=PlainHelpCommand)(summary_command)
    app.command("recap", cls=PlainHelpCommand)(recap_command)
    app.command("cards", cls=PlainHelpCommand)(cards_command)
