"""Commands over the local store itself: import, export, duplicates, profiles, time zones, formats, demo."""

from __future__ import annotations

import os
import tempfile
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tutti.cli._common import (
    HomeOption,
    JsonOption,
    PlainHelpCommand,
    ProfileOption,
    console,
    err_console,
    opened_store,
    print_json,
)
from tutti.cli.insights import draw_summary
from tutti.definitions import DEFINITIONS
from tutti.demo import write_demo_export
from tutti.errors import UsageError
from tutti.importers import ReadOptions, formats
from tutti.insights.summary import summary
from tutti.insights.zone_evidence import suggest_stays
from tutti.insights.zones import checked_zone, system_zone, zone_name, zone_plan_for
from tutti.model import PROBLEM_KINDS
from tutti.settings import default_profile
from tutti.store import Store
from tutti.store.dedupe import list_merges, undo_merge
from tutti.store.export import export_jsonl, export_parquet
from tutti.store.ingest import ImportReport, import_paths
from tutti.store.profile import record_zone, recorded_zones, remove_zone


def import_with_progress(store: Store, profile: str, paths: list[Path], options: ReadOptions) -> list[ImportReport]:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} plays"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,  # scripts and logs get the result, not a redrawn bar
    ) as progress:
        task = progress.add_task("reading", total=None)

        def advance(file: str, count: int) -> None:
            progress.update(task, advance=count, description=f"reading {Path(file.split('!')[-1]).name}")

        return import_paths(store, profile, paths, options, advance)


def draw_report(report: ImportReport, label: str | None = None) -> None:
    """The report of one imported path, headed by the path (or by ``label``, for a path about to vanish)."""
    console.print(f"[bold]{escape(label or report.path)}[/]", highlight=False)
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
    for note, count in report.notes.items():
        console.print(f"  note: {count:,} {note}")
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


def _shown_paths(data: Any, root: Path, *, full: bool) -> Any:
    """``data`` with the folders above the import path left out of every path in it ("my_spotify_data.zip!..."),
    or with the import path made absolute when the listener asks for full paths."""
    given = str(root)
    above = os.path.join(str(root.parent), "")
    if isinstance(data, dict):
        return {key: _shown_paths(value, root, full=full) for key, value in data.items()}
    if isinstance(data, list):
        return [_shown_paths(value, root, full=full) for value in data]
    if isinstance(data, str):
        if full:
            return data.replace(given, str(root.resolve())) if not root.is_absolute() else data
        return data.replace(above, "") if above not in ("./", "") else data
    return data


def import_command(
    paths: Annotated[list[Path], typer.Argument(metavar="EXPORT", help="Exports: zip files, folders or single files.")],
    profile: ProfileOption = None,
    home: HomeOption = None,
    include_incognito: Annotated[
        bool, typer.Option("--include-incognito", help="Also keep private-session (incognito) plays.")
    ] = False,
    json: JsonOption = False,
    full_paths: Annotated[
        bool, typer.Option("--full-paths", help="With --json: give files as absolute paths, not as the export's.")
    ] = False,
) -> None:
    """Import exports into the local store; importing the same export again adds nothing."""
    who = profile or default_profile()
    with opened_store(home) as store:
        reports = import_with_progress(store, who, paths, ReadOptions(include_incognito=include_incognito))
    if json:
        shown = [_shown_paths(r.to_json(), path, full=full_paths) for r, path in zip(reports, paths, strict=True)]
        print_json({"profile": who, "imports": shown})
        return
    for report in reports:
        draw_report(report)


def iso_utc(when: datetime | None) -> str | None:
    """A time for scripts: ISO 8601 in UTC with a Z ("2024-08-02T20:00:12Z")."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z") if when else None


def for_scripts(value: Any) -> Any:
    """A result as JSON for scripts: a dataclass's fields by name, times by ``iso_utc``."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: for_scripts(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return iso_utc(value)
    return value


def profiles_command(home: HomeOption = None, json: JsonOption = False) -> None:
    """List the profiles in the store with their number of listening events."""
    with opened_store(home) as store:
        found = store.profiles()
    if json:
        print_json({"profiles": [for_scripts(p) for p in found]})
        return
    table = Table("profile", "events", "first (UTC)", "last (UTC)")
    for p in found:
        first, last = (f"{t:%Y-%m-%d %H:%M:%S}" if t else "-" for t in (p.first_utc, p.last_utc))
        table.add_row(p.name, f"{p.events:,}", first, last)
    console.print(table)


def duplicates_command(
    profile: ProfileOption = None,
    home: HomeOption = None,
    undo: Annotated[int | None, typer.Option(metavar="NUMBER", help="Undo the merge with this number.")] = None,
    show_undone: Annotated[bool, typer.Option("--all", help="Also list merges that were undone.")] = False,
    json: JsonOption = False,
) -> None:
    """List copies of one play merged across sources (certain or probable); undo one with --undo N."""
    who = profile or default_profile()
    with opened_store(home) as store:
        store.require_profile(who)
        if undo is not None:
            undo_merge(store, who, undo)
            if json:
                print_json({"profile": who, "undone": undo})
            else:
                console.print(f"merge {undo} undone: the copy counts as a play of its own again")
            return
        merges = list_merges(store, who, include_undone=show_undone)
    if json:
        print_json({"profile": who, "merges": [for_scripts(m) for m in merges]})
        return
    table = Table("#", "confidence", "kept", "merged copy", "Δ s", "rule")
    for m in merges:
        label = m.confidence + (" (undone)" if m.undone else "")
        table.add_row(str(m.merge_id), label, str(m.kept), str(m.duplicate), f"{m.delta_ms / 1000:g}", m.rule)
    console.print(table)
    console.print(f"{len(merges):,} merges")


def export_command(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="File to write.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", metavar="FORMAT", help="jsonl (ListenBrainz listens) or parquet.")
    ] = "jsonl",
    profile: ProfileOption = None,
    home: HomeOption = None,
    json: JsonOption = False,
) -> None:
    """Write a profile's plays to an open format."""
    who = profile or default_profile()
    writers = {"jsonl": export_jsonl, "parquet": export_parquet}
    if fmt not in writers:
        raise UsageError(f"unknown format {fmt!r}; choose jsonl or parquet")
    with opened_store(home) as store:
        count = writers[fmt](store, who, out)
    if json:
        print_json({"profile": who, "format": fmt, "out": str(out), "plays": count})
        return
    console.print(f"wrote {count:,} plays of {who} to {out}")


def _utc_day(text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    except ValueError:
        raise UsageError(f"{text!r} is not a day like 2021-06-30") from None


def timezone_command(
    zone: Annotated[
        str | None, typer.Argument(metavar="ZONE", help="IANA zone, e.g. Europe/Berlin; omit to list.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(metavar="DAY", help="Day (YYYY-MM-DD, UTC midnight) from which the zone applies, or is removed."),
    ] = None,
    confirm: Annotated[
        bool, typer.Option("--confirm", help="Record the zones your export suggests, as they are listed.")
    ] = False,
    remove: Annotated[
        bool, typer.Option("--remove", help="Remove the entry from --since DAY (without --since: the first one).")
    ] = False,
    profile: ProfileOption = None,
    home: HomeOption = None,
) -> None:
    """Where the listener lived (zones can change over the years): list, set, confirm the export's suggestion
    or remove an entry; recaps use it for local time."""
    who = profile or default_profile()
    if sum((zone is not None, confirm, remove)) > 1:
        raise UsageError("give a ZONE, --confirm or --remove, one at a time")
    if since and zone is None and not remove:
        raise UsageError("--since DAY goes with a ZONE to set or with --remove")
    with opened_store(home) as store:
        store.require_profile(who)
        stays = suggest_stays(store, who, system_zone())
        if zone is not None:
            record_zone(store, who, checked_zone(zone), _utc_day(since) if since else None)
        elif confirm:
            if not stays:
                raise UsageError("your export does not say where you were: set a zone with `tutti timezone ZONE`")
            for stay in stays:
                record_zone(store, who, stay.zone, stay.since_utc)
        elif remove:
            when = _utc_day(since) if since else None
            if not remove_zone(store, who, when):
                raise UsageError(f"{who} has no zone entry {'from ' + since if since else 'from the beginning'}")
        recorded = recorded_zones(store, who)
        plan = zone_plan_for(store, who)
    if recorded:
        console.print(f"time zones set for {who}:")
        for since_utc, name in recorded:
            start = f"from {since_utc:%Y-%m-%d}" if since_utc else "from the beginning"
            console.print(f"  {zone_name(name)}  {start}", highlight=False)
    else:
        console.print(f"no time zone set for {who}")
    if stays:
        console.print("your export suggests:")
        for stay in stays:
            start = f"from {stay.since_utc:%Y-%m-%d}" if stay.since_utc else "from the beginning"
            console.print(f"  {zone_name(stay.zone)}  {start}: {stay.evidence}", highlight=False)
            if stay.alternatives:
                console.print(f"    same clock as {', '.join(stay.alternatives)}", highlight=False)
    console.print(f"recaps use {plan.label}: {plan.note}", highlight=False)


def formats_command(json: JsonOption = False) -> None:
    """List the export formats Tutti reads, what its words mean, and why a record can be refused."""
    if json:
        print_json(
            {
                "formats": [{"name": f.name, "description": f.description} for f in formats()],
                "definitions": [{"term": d.term, "meaning": d.meaning} for d in DEFINITIONS],
                "problem_kinds": [{"kind": kind.value, "meaning": meaning} for kind, meaning in PROBLEM_KINDS.items()],
            }
        )
        return
    table = Table("format", "what")
    for f in formats():
        table.add_row(f.name, f.description)
    console.print(table)
    console.print("\n[bold]What the numbers mean[/]")
    for d in DEFINITIONS:
        console.print(f"[bold]{escape(d.term)}[/]: {escape(d.meaning)}", highlight=False)
    console.print("\n[bold]Why a record is not stored[/] (the kind of each problem an import lists)")
    for kind, meaning in PROBLEM_KINDS.items():
        console.print(f"[bold]{kind.value}[/]: {escape(meaning)}", highlight=False)


def demo_command(
    home: HomeOption = None,
    profile: Annotated[str, typer.Option("--profile", "-p", metavar="NAME", help="Profile to fill.")] = "demo",
    seed: Annotated[int, typer.Option(metavar="NUMBER", help="Seed of the generated history.")] = 7,
) -> None:
    """Generate a demo history (Spotify and Last.fm exports of one invented listener), import it, summarise."""
    # The generated files live only as long as the import: the report names them by what they are, not by a
    # temporary folder that is gone when the command ends.
    with tempfile.TemporaryDirectory(prefix="tutti-demo-") as tmp:
        export = write_demo_export(Path(tmp), seed=seed)
        with opened_store(home) as store:
            for report in import_with_progress(store, profile, [export], ReadOptions()):
                draw_report(report, label="generated demo export (Spotify extended history and Last.fm scrobbles)")
            draw_summary(summary(store, profile))
    year = datetime.now(UTC).year
    console.print(
        f"next: tutti recap {year} --profile {profile} --open   (this year's story, offline); "
        f"the README's commands work on this history with --profile {profile} (or TUTTI_PROFILE={profile})",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    for name, command in (
        ("import", import_command),
        ("profiles", profiles_command),
        ("duplicates", duplicates_command),
        ("export", export_command),
        ("timezone", timezone_command),
        ("formats", formats_command),
        ("demo", demo_command),
    ):
        app.command(name, cls=PlainHelpCommand)(command)
