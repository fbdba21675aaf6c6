"""``tutti coop``: found and run a cooperative (init, serve, worker), and contribute to one from the command line.

The server's stack (SQLAlchemy, FastAPI) is imported inside the commands, so a listener's commands never load it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Column, Table

from tutti.cli._common import ID_WIDTH, HomeOption, PlainHelpCommand, console, err_console
from tutti.coop.errors import LogInvalid
from tutti.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tutti.coop.audit.checkpoint import VerifierKey
    from tutti.coop.settings import CoopSettings
    from tutti.web.schemas import ContributionReportPublic, ProgressPublic

coop_app = typer.Typer(
    help="Run a listeners' cooperative: members, contributions, votes and a signed audit log.",
    no_args_is_help=True,
)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option("--database-url", help="sqlite:///PATH or postgresql+psycopg://... (default: $TUTTI_DATABASE_URL)."),
]


@coop_app.command("init", cls=PlainHelpCommand)
def coop_init_command(
    name: Annotated[str, typer.Option("--name", help="Name of the cooperative.")],
    steward_email: Annotated[str, typer.Option("--steward-email", help="Email of the first steward's account.")],
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Found a cooperative: database, master key, log signing key and the first steward (runs once)."""
    from tutti.coop.bootstrap import init_cooperative

    def password() -> str:
        return str(typer.prompt("Steward password", hide_input=True, confirmation_prompt=True))

    founded = init_cooperative(home, database_url, name=name, steward_email=steward_email, password=password)
    console.print(f"founded the cooperative [bold]{founded.name}[/]", highlight=False)
    console.print(f"  database: {founded.database}", highlight=False)
    console.print(f"  master key: {founded.master_key} (keep a copy offline: without it no data can be read)")
    console.print(f"  first steward: {steward_email.strip().lower()} (active)", highlight=False)
    console.print(f"  log verifier key: {founded.log_key}", highlight=False)
    console.print("  (publish it where members can find it: `tutti coop log verify` checks the log with it)")


@coop_app.command("serve", cls=PlainHelpCommand)
def coop_serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Run the cooperative's web server (pages and JSON API); applies pending migrations first."""
    from tutti.web.server import serve

    serve(home, database_url, host=host, port=port, announce=lambda m: console.print(m, highlight=False))


@coop_app.command("worker", cls=PlainHelpCommand)
def coop_worker_command(
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Jobs run at once, one thread each.")] = 1,
    drain: Annotated[bool, typer.Option("--drain", help="Run the jobs due now, then exit.")] = False,
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Run the cooperative's background jobs (validating uploads, housekeeping) until stopped."""
    from tutti.coop.jobs.service import work

    ran = work(
        home,
        database_url,
        concurrency=concurrency,
        drain=drain,
        announce=lambda m: err_console.print(m, highlight=False),
    )
    if drain:
        console.print(f"ran {ran} job(s)")


@coop_app.command("rotate-master-key", cls=PlainHelpCommand)
def coop_rotate_command(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="File for the new key when the master key comes from TUTTI_COOP_MASTER_KEY."),
    ] = None,
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Wrap every key anew under a new master key and destroy the old one (stop the server and workers first)."""
    from tutti.coop import rotation
    from tutti.coop.bootstrap import open_cooperative
    from tutti.coop.db import session_factory

    running = open_cooperative(home, database_url)
    try:
        with session_factory(running.engine, running.settings)() as session:
            done = rotation.rotate(session, running.settings, out=out)
    finally:
        running.engine.dispose()
    console.print(
        f"master key rotated (generation {done.generation}): {done.member_keys:,} member keys and the log's key "
        f"wrapped anew; the new key is in {done.key_file}",
        highlight=False,
    )
    if done.old_key_destroyed:
        console.print("the old key is destroyed: backups made before now can no longer be opened")
    else:
        console.print(
            "set TUTTI_COOP_MASTER_KEY to the new key and remove the old value everywhere it is kept: until then, "
            "backups made before now can still be opened with it"
        )


@coop_app.command("contribute", cls=PlainHelpCommand)
def coop_contribute_command(
    path: Annotated[Path, typer.Argument(help="The export: its zip, its folder, or one of its files.")],
    server: Annotated[str, typer.Option("--server", help="The cooperative's address, e.g. https://coop.example.org.")],
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="TUTTI_COOP_TOKEN", help="API token with the `contribute` scope (made on the server)."
        ),
    ] = None,
) -> None:
    """Check an export locally, upload it to a cooperative, follow its validation there and print the report."""
    from tutti.coop.errors import ValidationRejected
    from tutti.coop_client import follow, read_locally, upload

    local = read_locally(path)
    console.print(
        f"read {local.plays:,} plays ({', '.join(local.formats)}) locally; uploading {len(local.files)} file(s)",
        highlight=False,
    )
    with _bar("uploading") as progress:
        task = progress.add_task("uploading", total=local.size or 1)
        pending = upload(server, token, local, progress=lambda n: progress.update(task, completed=n))
    console.print(f"uploaded; the server is checking it (contribution {pending.contribution_id})", highlight=False)
    with _bar("{task.description}") as progress:
        task = progress.add_task("waiting for a worker", total=None)

        def show(state: ProgressPublic | None) -> None:
            if state is not None:
                progress.update(task, description=state.note, completed=state.done, total=state.total)

        decided = follow(server, token, pending.contribution_id, progress=show)
    assert decided.report is not None
    draw_contribution(decided.report)
    if decided.report.status != "accepted":
        raise ValidationRejected(decided.report.reasons, held=decided.report.status == "held")


def _bar(label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f} %"),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,  # scripts and logs get the result, not a redrawn bar
    )


def draw_contribution(report: ContributionReportPublic) -> None:
    """The validation report as the member sees it on the web page: verdict, files, checks, copy check, score."""
    if report.status == "accepted":
        console.print(
            f"[bold green]accepted[/]: {report.points:,} points, {report.plays_added:,} new plays in the pool"
        )
    elif report.status == "held":
        console.print("[bold yellow]held[/] for the stewards: it earns nothing until they resolve its copy case")
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


cases_app = typer.Typer(
    help="Copy cases: contributions held because they share a history, until a steward says whose it is.",
    no_args_is_help=True,
)
coop_app.add_typer(cases_app, name="cases")


@contextmanager
def _cooperative(home: Path | None, database_url: str | None) -> Iterator[tuple[Session, CoopSettings]]:
    """A session on the running cooperative (master key loaded), committed by the caller."""
    from tutti.coop.bootstrap import open_cooperative
    from tutti.coop.db import session_factory

    running = open_cooperative(home, database_url)
    try:
        with session_factory(running.engine, running.settings)() as session:
            yield session, running.settings
    finally:
        running.engine.dispose()


@cases_app.command("list")
def cases_list_command(database_url: DatabaseUrlOption = None, home: HomeOption = None) -> None:
    """The open copy cases, oldest first: each held contribution, its member, its period, who reaches further."""
    from tutti.coop.contributions import cases

    with _cooperative(home, database_url) as (session, _settings):
        found = cases.open_cases(session)
    if not found:
        console.print("no open copy cases")
    for case in found:
        table = Table(
            Column("contribution", no_wrap=True, min_width=ID_WIDTH),
            Column("member", no_wrap=True, min_width=ID_WIDTH),
            "plays",
            "from",
            "to",
            "reaches further",
            title=f"case {case.case_id} (opened {case.opened_utc:%Y-%m-%d %H:%M} UTC)",
            title_justify="left",
        )
        for c in case.contributions:
            table.add_row(
                c.contribution_id,
                c.member_id,
                f"{c.plays_read:,}",
                f"{c.first_play_utc:%Y-%m-%d}" if c.first_play_utc else "",
                f"{c.last_play_utc:%Y-%m-%d}" if c.last_play_utc else "",
                "yes" if c.reaches_further else "no",
            )
        console.print(table)


@cases_app.command("resolve")
def cases_resolve_command(
    case_id: Annotated[str, typer.Argument(help="The case's id (from `tutti coop cases list`).")],
    steward: Annotated[str, typer.Option("--steward", help="The id of the steward resolving it.")],
    resolution: Annotated[str, typer.Option("--resolution", help="Why: newer-export, steward-evidence or no-owner.")],
    owner: Annotated[
        str | None, typer.Option("--owner", help="The member whose history it is (none with no-owner).")
    ] = None,
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Resolve a copy case: the owner's contributions are accepted and pooled, the others rejected (audited)."""
    from tutti.coop.contributions import cases
    from tutti.coop.errors import NotFound
    from tutti.coop.models import Member

    with _cooperative(home, database_url) as (session, settings):
        acting = session.get(Member, steward)
        if acting is None:
            raise NotFound("no member with that id")
        done = cases.resolve(session, settings, acting, case_id, owner, resolution)
        session.commit()
    console.print(
        f"case {done.case_id} resolved: {len(done.released)} contribution(s) accepted, {len(done.refused)} rejected",
        highlight=False,
    )


log_app = typer.Typer(
    help="The cooperative's public log: verify it, make a signed checkpoint, show its verifier key.",
    no_args_is_help=True,
)
coop_app.add_typer(log_app, name="log")

KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key",
        help="The log's verifier key (NAME+KEYID+BASE64) or a file holding it; default: the key pinned at init.",
    ),
]


@contextmanager
def _database(home: Path | None, database_url: str | None) -> Iterator[tuple[Session, Path]]:
    """A plain session on the cooperative's database as it is, and its data folder; no master key is needed
    (an auditor verifying a copy has none) and nothing is migrated (verifying must not write)."""
    from sqlalchemy.orm import Session

    from tutti.coop.db import make_engine
    from tutti.coop.settings import data_dir_for, database_url_for

    data_dir = data_dir_for(home)
    engine = make_engine(database_url_for(data_dir, database_url))
    try:
        with Session(engine) as session:
            yield session, data_dir
    finally:
        engine.dispose()


def _verifier_key(text: str | None, data_dir: Path | None) -> VerifierKey:
    from tutti.coop.audit.checkpoint import VerifierKey
    from tutti.coop.audit.transparency import pinned_verifier_key

    if text is None:
        if data_dir is None:
            raise UsageError("--key is needed to verify a remote log (the log's published verifier key)")
        return pinned_verifier_key(data_dir)
    path = Path(text)
    return VerifierKey.parse(path.read_text(encoding="utf-8") if path.is_file() else text)


@log_app.command("verify", cls=PlainHelpCommand)
def log_verify_command(
    key: KeyOption = None,
    checkpoints: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="A checkpoint kept earlier (a file); the log must extend it. Repeatable."),
    ] = None,
    server: Annotated[
        str | None, typer.Option("--server", help="Verify the public log of this server instead of a local database.")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="With --server: download every entry and check each one too.")
    ] = False,
    receipt: Annotated[
        Path | None,
        typer.Option("--receipt", help="Check only this receipt (a file from My earnings), offline, with the key."),
    ] = None,
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Check the log: every entry's hash, chain and signature, and that it extends every checkpoint given."""
    from tutti.coop.audit import transparency
    from tutti.log_client import LogServer

    if receipt is not None:
        from tutti.coop.settings import data_dir_for

        _verify_receipt(receipt, _verifier_key(key, None if key else data_dir_for(home)))
        return
    held = [path.read_text(encoding="utf-8") for path in checkpoints or []]
    if server is not None:
        pinned = _verifier_key(key, None)
        remote = LogServer(server)
        latest = remote.latest_checkpoint()
        size = int(latest.split("\n")[1]) if latest.count("\n") > 1 else 0
        entries = remote.entries(size) if full else None
        result = transparency.verify_published(pinned, latest, held, remote.consistency, entries)
    else:
        with _database(home, database_url) as (session, data_dir):
            result = transparency.verify_log(session, _verifier_key(key, data_dir), held)
    for finding in result.findings:
        err_console.print(f"[red]{finding.code}[/]: {finding.detail}", highlight=False)
    if not result.ok:
        raise LogInvalid(f"the log does not verify: {len(result.findings)} problem(s), listed above")
    console.print(
        f"the log verifies: {result.entries:,} entries, {result.checkpoints:,} checkpoints checked", highlight=False
    )


def _verify_receipt(path: Path, pinned: VerifierKey) -> None:
    """Check a receipt file against the log's key alone and say what it shows."""
    import orjson

    from tutti.coop.errors import InvalidInput
    from tutti.coop.ledger import receipts
    from tutti.coop.ledger.payout_files import major

    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InvalidInput(f"{path} is not a receipt file: {exc}") from None
    try:
        checked = receipts.verify_receipt(data, pinned)
    except InvalidInput as exc:
        raise LogInvalid(f"{path}: {exc}") from None
    body = checked.body
    share = major(abs(body["share"]), body["minor_units"])
    console.print(
        f"the receipt verifies: {body['sale']} ({body['transfer_kind']}): {body['reason']}, weight "
        f"{body['weight']:,} of {body['total_weight']:,}, share {'-' if body['share'] < 0 else ''}{share} "
        f"{body['currency']}; signed in the log of {checked.log_size:,} entries",
        highlight=False,
    )


@log_app.command("checkpoint", cls=PlainHelpCommand)
def log_checkpoint_command(database_url: DatabaseUrlOption = None, home: HomeOption = None) -> None:
    """Sign a checkpoint of the log as it is now and print it (publish it, or keep it to verify later)."""
    from tutti.coop.audit import transparency
    from tutti.coop.bootstrap import open_cooperative
    from tutti.coop.db import session_factory

    running = open_cooperative(home, database_url)
    try:
        with session_factory(running.engine, running.settings)() as session:
            note = transparency.latest_checkpoint(session)
    finally:
        running.engine.dispose()
    assert note is not None  # opening the cooperative signs one
    sys.stdout.write(note.note)


@log_app.command("key", cls=PlainHelpCommand)
def log_key_command(home: HomeOption = None) -> None:
    """Print the log's verifier key pinned at init (publish it: verifiers check checkpoints with it)."""
    from tutti.coop.audit.transparency import pinned_verifier_key
    from tutti.coop.settings import data_dir_for

    console.print(pinned_verifier_key(data_dir_for(home)).text(), highlight=False)
