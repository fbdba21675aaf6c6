"""What every command group shares: the consoles, the common options, opening the store, JSON output."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import duckdb
import orjson
import typer
from rich.console import Console
from typer.core import TyperArgument, TyperCommand, TyperOption

from tutti.store import Store, damaged, open_store

console = Console(soft_wrap=True)
# An id column is never narrowed or folded, whatever the terminal's width: ids are copied and pasted.
ID_WIDTH = 36
err_console = Console(stderr=True, soft_wrap=True)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", metavar="FOLDER", help="Folder of the local store (default: $TUTTI_HOME or user data dir)."),
]
ProfileOption = Annotated[
    str | None,
    typer.Option("--profile", "-p", metavar="NAME", help="Whose history (default: $TUTTI_PROFILE or 'me')."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]
TzOption = Annotated[
    str | None,
    typer.Option("--tz", metavar="ZONE", help="Time zone (default: the profile's, else this machine's)."),
]
RuleOption = Annotated[str, typer.Option(metavar="RULE", help="Play rule: 'default' (>= 30 s, no skips) or 'any'.")]
PeriodArgument = Annotated[
    str, typer.Argument(help="all, 2024, 2024-03, 2024-Q2, 2024-summer or 2024-01-01..2024-06-30.")
]


class _WordArgument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the argument's name (its metavar) already says what it is


class PlainHelpCommand(TyperCommand):
    """A command whose help names values in words (each parameter's metavar: FILE, NAME), never in Python types
    (``<list[Path]>``, ``<str>``); a flag shows no value at all."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for param in params:
            if isinstance(param, TyperArgument) and not isinstance(param, _WordArgument):
                param.__class__ = _WordArgument
            elif isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
                param.metavar = ""
            elif isinstance(param, TyperOption) and param.metavar is None and param.name:
                param.metavar = param.name.upper()  # the option's own name in capitals: URL, HOST, PORT
        return params


@contextmanager
def opened_store(home: Path | None) -> Iterator[Store]:
    """The store, closed afterwards; a read that fails on a damaged file is a StoreError naming it."""
    store = open_store(home)
    try:
        yield store
    except (duckdb.IOException, duckdb.InternalException) as exc:
        raise damaged(store.path, exc) from exc
    finally:
        store.close()


def print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")
