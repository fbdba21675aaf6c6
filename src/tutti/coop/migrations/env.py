"""Alembic's entry point: migrate over the connection ``tutti.coop.db.upgrade`` hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from tutti.coop.models import Base


def _migrate(connection: Connection) -> None:
    # Batch mode lets later revisions alter columns on SQLite, which cannot ALTER most things in place.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if isinstance(given, Connection):
    _migrate(given)
else:
    # Run from the alembic command line: `alembic -x url=sqlite:///coop.sqlite upgrade head`.
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database with -x url=...")
    with create_engine(url).begin() as connection:
        _migrate(connection)
