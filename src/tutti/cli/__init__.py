"""The ``tutti`` command: each subcommand parses, calls the core, and draws the result.

One module per command group: ``library`` (import, export, duplicates, profiles, time zones, formats, demo),
``insights`` (summary, recap, cards) and ``coop`` (the cooperative's server, worker and client). A ``TuttiError``
raised anywhere below is translated here, once: one line on stderr, exit status 1, no traceback.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from tutti import __version__
from tutti.cli import coop, governance, insights, ledger, library, sales
from tutti.cli._common import console, err_console
from tutti.errors import TuttiError


class _TranslatingGroup(TyperGroup):
    """Runs every command; a TuttiError (bad input, not a bug) becomes ``error: <sentence>`` and exit 1."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except TuttiError as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)  # names may hold "[x]"
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_TranslatingGroup,
    help="Tutti: your listening history back. Import exports, see what you listened to, keep it yours.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
library.register(app)
insights.register(app)
governance.register(coop.coop_app)
sales.register(coop.coop_app)
ledger.register(coop.coop_app)
app.add_typer(coop.coop_app, name="coop")
coop_app = coop.coop_app


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        console.print(f"tutti {__version__}")
        raise typer.Exit()


__all__ = ["app", "coop_app"]
