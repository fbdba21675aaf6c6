"""The ``tutti`` command: each subcommand parses, calls the core, and draws the result."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tutti import __version__
from tutti.demo import write_demo_export
from tutti.errors import TuttiError, UsageError
from tutti.importers import ReadOptions, formats
from tutti.insights.period import Period
from tutti.insights.recap import Recap, build_recap
from tutti.insights.rules import rule_named
from tutti.insights.scope import open_scope
from tutti.insights.summary import Summary, summary
from tutti.insights.zones import checked_zone, zone_plan_for
from tutti.settings import default_profile
from tutti.store import Store, open_store
from tutti.store.dedupe import list_merges, undo_merge
from tutti.store.export import export_jsonl, export_parquet
from tutti.store.ingest import ImportReport, import_paths
from tutti.store.profile import record_zone

if TYPE_CHECKING:
    from tutti.web.schemas import ContributionReportPublic

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
        hint = " (--include-incognito keeps them)" if "incognito" in reason else ""
        console.print(f"  skipped {count:,}: {reason}{hint}")
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


@app.command("recap")
def recap_command(
    period: Annotated[str, typer.Argument(help="all, 2024, 2024-03, 2024-Q2, 2024-summer or 2024-01-01..2024-06-30.")],
    profile: ProfileOption = None,
    home: HomeOption = None,
    tz: Annotated[
        str | None, typer.Option("--tz", help="Time zone (default: the profile's, else this machine's).")
    ] = None,
    rule: Annotated[str, typer.Option(help="Play rule: 'default' (>= 30 s, no skips) or 'any'.")] = "default",
    top: Annotated[int, typer.Option("--top", min=1, help="Entries per top list.")] = 10,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="HTML file to write (default: recaps/ in the store folder).")
    ] = None,
    open_page: Annotated[bool, typer.Option("--open", help="Open the page in the web browser.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the recap as JSON instead of writing the page.")] = False,
) -> None:
    """A period's story as one self-contained HTML page that opens offline; or its figures as JSON."""
    import re
    import webbrowser

    from tutti.insights.recap import recap_to_json
    from tutti.report.html import write_recap_html  # Altair and the chart bundle load only for this command

    who = profile or default_profile()
    with _store(home) as store, err_console.status("building the recap"):

        def build() -> Recap:
            zones = zone_plan_for(store, who, tz)
            scope = open_scope(store, who, Period.parse(period), rule_named(rule), zones)
            try:
                return build_recap(scope, top)
            finally:
                scope.close()

        recap = _run(build)
        folder = store.path.parent if store.path else Path.cwd()
    if json:
        _print_json(recap_to_json(recap))
        return
    target = out or folder / "recaps" / f"{who}-{re.sub(r'[^0-9A-Za-z_-]+', '_', recap.period)}.html"
    with err_console.status("drawing the page"):
        written = write_recap_html(recap, target)
    console.print(str(written), highlight=False)
    err_console.print(f"[dim]play rule {recap.rule}; time zone {recap.zone}[/]", highlight=False)
    if open_page:
        webbrowser.open(written.resolve().as_uri())


@app.command("cards")
def cards_command(
    period: Annotated[str, typer.Argument(help="all, 2024, 2024-03, 2024-Q2, 2024-summer or 2024-01-01..2024-06-30.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the cards to.")],
    profile: ProfileOption = None,
    home: HomeOption = None,
    tz: Annotated[
        str | None, typer.Option("--tz", help="Time zone (default: the profile's, else this machine's).")
    ] = None,
    rule: Annotated[str, typer.Option(help="Play rule: 'default' (>= 30 s, no skips) or 'any'.")] = "default",
) -> None:
    """Draw a period's recap as shareable story-sized cards (1080x1920 PNG); print the files written."""
    from tutti.report.cards import draw_cards, write_cards  # Pillow and fonts load only for this command

    who = profile or default_profile()
    with _store(home) as store:

        def build() -> Recap:
            zones = zone_plan_for(store, who, tz)
            scope = open_scope(store, who, Period.parse(period), rule_named(rule), zones)
            try:
                return build_recap(scope)
            finally:
                scope.close()

        recap = _run(build)
    cards = draw_cards(recap)
    for path in _run(lambda: write_cards(cards, recap.period, out)):
        console.print(str(path), highlight=False)
    missing = sorted(set().union(*(card.missing for card in cards)))
    if missing:
        err_console.print(
            f"[yellow]no font found for {' '.join(missing)}: drawn as \ufffd; install a font that has them[/]",
            highlight=False,
        )


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
    console.print(f"next: tutti recap all --profile {profile} --open   (the story of this history, offline)")


coop_app = typer.Typer(
    help="Run a listeners' cooperative: members, contributions, votes and a signed audit log.",
    no_args_is_help=True,
)
app.add_typer(coop_app, name="coop")


@coop_app.command("init")
def coop_init_command(
    name: Annotated[str, typer.Option("--name", help="Name of the cooperative.")],
    steward_email: Annotated[str, typer.Option("--steward-email", help="Email of the first steward's account.")],
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url", help="sqlite:///PATH or postgresql+psycopg://... (default: $TUTTI_DATABASE_URL)."
        ),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Found a cooperative: database, master key, log signing key and the first steward (runs once)."""
    # Imported here so that the listener's commands never load the cooperative's database stack.
    from tutti.coop.bootstrap import init_cooperative

    def password() -> str:
        return str(typer.prompt("Steward password", hide_input=True, confirmation_prompt=True))

    founded = _run(
        lambda: init_cooperative(home, database_url, name=name, steward_email=steward_email, password=password)
    )
    console.print(f"founded the cooperative [bold]{founded.name}[/]", highlight=False)
    console.print(f"  database: {founded.database}", highlight=False)
    console.print(f"  master key: {founded.master_key} (keep a copy offline: without it no data can be read)")
    console.print(f"  first steward: {steward_email.strip().lower()} (active)", highlight=False)


@coop_app.command("serve")
def coop_serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url", help="sqlite:///PATH or postgresql+psycopg://... (default: $TUTTI_DATABASE_URL)."
        ),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Run the cooperative's web server (pages and JSON API); applies pending migrations first."""
    from tutti.web.server import serve

    _run(lambda: serve(home, database_url, host=host, port=port, announce=lambda m: console.print(m, highlight=False)))


@coop_app.command("contribute")
def coop_contribute_command(
    path: Annotated[Path, typer.Argument(help="The export: its zip, its folder, or one of its files.")],
    server: Annotated[str, typer.Option("--server", help="The cooperative's address, e.g. https://coop.example.org.")],
    token: Annotated[
        str | None, typer.Option("--token", envvar="TUTTI_COOP_TOKEN", help="API token (made on the server).")
    ] = None,
) -> None:
    """Check an export locally with Tutti's importers, upload it to a cooperative and print its validation report."""
    from tutti.coop.errors import ValidationRejected
    from tutti.web.client import read_locally, upload

    local = _run(lambda: read_locally(path))
    console.print(
        f"read {local.plays:,} plays ({', '.join(local.formats)}) locally; uploading {len(local.files)} file(s)",
        highlight=False,
    )
    with Progress(
        TextColumn("uploading"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f} %"),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task("upload", total=local.size or 1)
        report = _run(lambda: upload(server, token, local, progress=lambda n: progress.update(task, completed=n)))
    _draw_contribution(report)
    if report.status != "accepted":

        def rejected() -> None:
            raise ValidationRejected(report.reasons)

        _run(rejected)


def _draw_contribution(report: ContributionReportPublic) -> None:
    """The validation report as the member sees it on the web page: verdict, files, checks, copy check, score."""
    if report.status == "accepted":
        console.print(
            f"[bold green]accepted[/]: {report.points:,} points, {report.plays_added:,} new plays in the pool"
        )
    else:
        console.print("[bold red]rejected[/]: nothing of this upload entered the pool")
    files = Table("file", "read as", "plays", "problems", "notes", title="files", title_justify="left")
    for f in report.files:
        notes = [f.unread_reason or "", *(f"{n:,} {why}" for why, n in f.skipped.items()), *f.problem_examples]
        files.add_row(
            f.name, f.format or "not read", f"{f.plays:,}", f"{f.problems:,}", "\n".join(n for n in notes if n)
        )
    console.print(files)
    if report.plausibility is not None:
        title = f"plausibility: score {report.plausibility.score}/100"
        checks = Table("check", "verdict", "measured", "limit", title=title, title_justify="left")
        for c in report.plausibility.checks:
            verdict = "n/a" if not c.applicable else ("[green]pass[/]" if c.passed else "[red]fail[/]")
            checks.add_row(c.name, verdict, "" if c.value is None else f"{c.value:.3g}", c.threshold)
        console.print(checks)
    for label, part in (("copy check", report.copy_check), ("consistency", report.consistency)):
        if part is not None:
            console.print(f"{label}: {part.reason}", highlight=False)
    if report.score is not None:
        score = Table("part", "points", "how", title=f"score: {report.points:,} points", title_justify="left")
        for item in report.score.items:
            score.add_row(item.name, f"{item.points:,}", item.explanation)
        console.print(score)


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        console.print(f"tutti {__version__}")
        raise typer.Exit()
