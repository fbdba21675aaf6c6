"""The ``tutti`` command: each subcommand parses, calls the core, and draws the result."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tutti import __version__
from tutti.demo import write_demo_export
from tutti.errors import TuttiError, UsageError
from tutti.importers import ReadOptions, formats
from tutti.insights.rules import rule_named
from tutti.insights.summary import Summary, summary
from tutti.insights.zones import checked_zone, zone_plan_for
from tutti.settings import default_profile
from tutti.store import Store, open_store
from tutti.store.dedupe import list_merges, undo_merge
from tutti.store.export import export_jsonl, export_parquet
from tutti.store.ingest import ImportReport, import_paths
from tutti.store.profile import record_zone

app = typer.Typer(
    help="Tutti: your listening history back. Import exports, see what you listened to, keep it yours.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

T = TypeVar("T")

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Folder of the local store (default: $TUTTI_HOME or user data dir)."),
]
ProfileOption = Annotated[
    str | None, typer.Option("--profile", "-p", help="Whose history (default: $TUTTI_PROFILE or 'me').")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]


def _run(action: Callable[[], T]) -> T:
    """Run a core call; a TuttiError becomes one line on stderr and exit status 1."""
    try:
        return action()
    except TuttiError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None


@contextmanager
def _store(home: Path | None) -> Iterator[Store]:
    store = _run(lambda: open_store(home))
    try:
        yield store
    finally:
        store.close()


def _print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


def _import_with_progress(store: Store, profile: str, paths: list[Path], options: ReadOptions) -> list[ImportReport]:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} plays"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task("reading", total=None)

        def advance(file: str, count: int) -> None:
            progress.update(task, advance=count, description=f"reading {Path(file.split('!')[-1]).name}")

        return _run(lambda: import_paths(store, profile, paths, options, advance))


def _draw_report(report: ImportReport) -> None:
    console.print(f"[bold]{report.path}[/]")
    formats_read = ", ".join(f"{name} ({n} files)" for name, n in report.formats.items()) or "none"
    console.print(f"  formats: {formats_read}")
    console.print(
        f"  plays read {report.plays_read:,}: [green]added {report.added:,}[/], "
        f"already stored {report.already_stored:,}, exact duplicates in the export {report.exact_duplicates:,}"
    )
    if report.merged_certain or report.merged_probable:
        console.print(
            f"  merged as copies of plays from another source: {report.merged_certain:,} certain, "
            f"{report.merged_probable:,} probable (see `tutti duplicates`)"
        )
    for reason, count in report.skipped.items():
        console.print(f"  skipped {count:,}: {reason}")
    if report.problems:
        console.print(f"  [yellow]unreadable records skipped: {len(report.problems):,}[/]")
        for problem in report.problems[:10]:
            console.print(f"    {problem}", highlight=False)
        if len(report.problems) > 10:
            console.print(f"    … and {len(report.problems) - 10:,} more (see --json)")
    if report.library_items or report.playlists or report.service_recaps:
        console.print(
            f"  library: {report.library_items:,} saved items, {report.playlists:,} playlists, "
            f"{report.service_recaps:,} service recaps"
        )
    for unread in report.unread:
        console.print(f"  [dim]not read: {unread.path} ({unread.reason})[/]", highlight=False)


@app.command("import")
def import_command(
    paths: Annotated[list[Path], typer.Argument(help="Exports: zip files, folders or single files.")],
    profile: ProfileOption = None,
    home: HomeOption = None,
    include_incognito: Annotated[
        bool, typer.Option("--include-incognito", help="Also keep private-session (incognito) plays.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """Import exports into the local store; importing the same export again adds nothing."""
    who = profile or default_profile()
    with _store(home) as store:
        reports = _import_with_progress(store, who, paths, ReadOptions(include_incognito=include_incognito))
    if json:
        _print_json({"profile": who, "imports": [r.to_json() for r in reports]})
        return
    for report in reports:
        _draw_report(report)


def _draw_summary(s: Summary) -> None:
    table = Table(title=f"Listening history of {s.profile}", show_header=False)
    hours = s.ms_played / 3_600_000
    table.add_row("listening events", f"{s.events:,}")
    table.add_row("time played", f"{hours:,.1f} hours ({s.ms_played:,} ms)")
    table.add_row(f"plays ({s.rule})", f"{s.plays:,}")
    table.add_row("first / last", f"{s.first_utc or '-'} / {s.last_utc or '-'} (UTC)")
    table.add_row("artists / tracks", f"{s.artists:,} / {s.tracks:,}")
    table.add_row("copies merged", f"{s.merged_duplicates:,}")
    for src in s.by_source:
        table.add_row(f"from {src.source}", f"{src.events:,} events, {src.ms_played / 3_600_000:,.1f} h")
    for kind in s.by_kind:
        table.add_row(f"{kind.content_kind}", f"{kind.events:,} events, {kind.ms_played / 3_600_000:,.1f} h")
    console.print(table)
    console.print(f"[dim]play rule {s.rule}: {s.rule_description}[/]")


@app.command("summary")
def summary_command(
    profile: ProfileOption = None,
    home: HomeOption = None,
    rule: Annotated[str, typer.Option(help="Play rule: 'default' (>= 30 s, no skips) or 'any'.")] = "default",
    json: JsonOption = False,
) -> None:
    """Headline numbers of a profile: events, time, plays, span, artists, tracks, per source."""
    who = profile or default_profile()
    with _store(home) as store:
        result = _run(lambda: summary(store, who, rule_named(rule)))
    if json:
        _print_json(asdict(result))
    else:
        _draw_summary(result)


@app.command("profiles")
def profiles_command(home: HomeOption = None, json: JsonOption = False) -> None:
    """List the profiles in the store with their number of listening events."""
    with _store(home) as store:
        found = store.profiles()
    if json:
        _print_json([asdict(p) for p in found])
        return
    table = Table("profile", "events", "first (UTC)", "last (UTC)")
    for p in found:
        table.add_row(p.name, f"{p.events:,}", p.first_utc or "-", p.last_utc or "-")
    console.print(table)


@app.command("duplicates")
def duplicates_command(
    profile: ProfileOption = None,
    home: HomeOption = None,
    undo: Annotated[int | None, typer.Option(help="Undo the merge with this number.")] = None,
    show_undone: Annotated[bool, typer.Option("--all", help="Also list merges that were undone.")] = False,
    json: JsonOption = False,
) -> None:
    """List copies of one play merged across sources (certain or probable); undo one with --undo N."""
    who = profile or default_profile()
    with _store(home) as store:
        _run(lambda: store.require_profile(who))
        if undo is not None:
            _run(lambda: undo_merge(store, who, undo))
            console.print(f"merge {undo} undone: the copy counts as a play of its own again")
            return
        merges = list_merges(store, who, include_undone=show_undone)
    if json:
        _print_json([asdict(m) for m in merges])
        return
    table = Table("#", "confidence", "kept", "merged copy", "Δ s", "rule")
    for m in merges:
        label = m.confidence + (" (undone)" if m.undone else "")
        table.add_row(str(m.merge_id), label, m.kept, m.duplicate, f"{m.delta_ms / 1000:g}", m.rule)
    console.print(table)
    console.print(f"{len(merges):,} merges")


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl (ListenBrainz listens) or parquet.")] = "jsonl",
    profile: ProfileOption = None,
    home: HomeOption = None,
) -> None:
    """Write a profile's plays to an open format."""
    who = profile or default_profile()
    writers = {"jsonl": export_jsonl, "parquet": export_parquet}
    with _store(home) as store:

        def write() -> int:
            if fmt not in writers:
                raise UsageError(f"unknown format {fmt!r}; choose jsonl or parquet")
            return writers[fmt](store, who, out)

        count = _run(write)
    console.print(f"wrote {count:,} plays of {who} to {out}")


@app.command("timezone")
def timezone_command(
    zone: Annotated[str | None, typer.Argument(help="IANA zone, e.g. Europe/Berlin; omit to list.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Day (YYYY-MM-DD, UTC midnight) from which the zone applies.")
    ] = None,
    profile: ProfileOption = None,
    home: HomeOption = None,
) -> None:
    """Record where the listener lived (time zones can change over the years); recaps use it for local time."""
    who = profile or default_profile()
    with _store(home) as store:

        def change() -> None:
            assert zone is not None
            start = _run(lambda: _utc_day(since)) if since else None
            record_zone(store, who, checked_zone(zone), start)

        if zone is not None:
            _run(change)
        plan = _run(lambda: zone_plan_for(store, who))
    console.print(f"time zones of {who}: {plan.label}")


def _utc_day(text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    except ValueError:
        raise UsageError(f"{text!r} is not a day like 2021-06-30") from None


@app.command("formats")
def formats_command() -> None:
    """List the export formats Tutti reads."""
    table = Table("format", "what")
    for f in formats():
        table.add_row(f.name, f.description)
    console.print(table)


@app.command("demo")
def demo_command(
    home: HomeOption = None,
    profile: Annotated[str, typer.Option("--profile", "-p", help="Profile to fill.")] = "demo",
    seed: Annotated[int, typer.Option(help="Seed of the generated history.")] = 7,
) -> None:
    """Generate a demo history (Spotify and Last.fm exports of one invented listener), import it, summarise."""
    with tempfile.TemporaryDirectory(prefix="tutti-demo-") as tmp:
        export = write_demo_export(Path(tmp), seed=seed)
        with _store(home) as store:
            reports = _import_with_progress(store, profile, [export], ReadOptions())
            for report in reports:
                _draw_report(report)
            _draw_summary(_run(lambda: summary(store, profile)))


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        console.print(f"tutti {__version__}")
        raise typer.Exit()
