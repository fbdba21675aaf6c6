"""``tutti coop releases``: the stewards' side of sales from the command line: every release and its state, and
the tracing of a copy of a release found elsewhere back to the sale and buyer it was delivered to."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from tutti.cli._common import ID_WIDTH, HomeOption, PlainHelpCommand, console
from tutti.cli.coop import DatabaseUrlOption, _cooperative
from tutti.errors import UsageError

releases_app = typer.Typer(help="Releases of passed sales: list them, trace a leaked copy.", no_args_is_help=True)


def register(coop_app: typer.Typer) -> None:
    coop_app.add_typer(releases_app, name="releases")


@releases_app.command("list", cls=PlainHelpCommand)
def releases_list_command(database_url: DatabaseUrlOption = None, home: HomeOption = None) -> None:
    """Every release, newest first: its sale, recipe, state, members included and when its licence ends."""
    from sqlalchemy import select

    from tutti.coop.models import Release

    with _cooperative(home, database_url) as (session, _settings):
        rows = list(session.scalars(select(Release).order_by(Release.created_utc.desc())))
    table = Table(
        Column("sale", no_wrap=True, min_width=ID_WIDTH), "recipe", "state", "members", "rows", "licence ends (UTC)"
    )
    for r in rows:
        table.add_row(r.proposal_id, f"{r.recipe} v{r.recipe_version}", r.status, str(r.members_included), str(r.rows),
                      f"{r.expires_utc:%Y-%m-%d}")  # fmt: skip
    console.print(table if rows else "no releases")


@releases_app.command("trace", cls=PlainHelpCommand)
def releases_trace_command(
    file: Annotated[Path, typer.Argument(help="A Parquet file found elsewhere.", exists=True, dir_okay=False)],
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Which release a Parquet file found elsewhere comes from: by its watermark, its content or its pseudonyms."""
    from tutti.coop.sales.tracing import trace

    with _cooperative(home, database_url) as (session, settings):
        found = trace(session, settings, file)
    if found is None:
        raise UsageError(f"{file}: no release of this cooperative matches it")
    console.print(f"{file} comes from the release of sale {found.proposal_id} (release {found.id}), delivered to "
                  f"buyer {found.buyer_id}")  # fmt: skip
