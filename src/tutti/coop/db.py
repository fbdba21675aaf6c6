"""The cooperative's database: engines for SQLite and PostgreSQL, sessions, and migrations applied from code."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, inspect, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from tutti.coop.errors import ConfigError
from tutti.coop.models import Cooperative
from tutti.coop.settings import DEFAULT_DB_CONNECTIONS, CoopSettings

MIGRATIONS = Path(__file__).with_name("migrations")
SETTINGS_KEY = "coop_settings"
# Seconds a writer waits for another process's write to finish before SQLite gives up.
SQLITE_BUSY_TIMEOUT_MS = 15_000
# Connections a pool keeps open between bursts; the rest of ``connections`` are opened as needed.
POOL_KEPT = 10


def make_engine(url: str, *, schema: str | None = None, connections: int = DEFAULT_DB_CONNECTIONS) -> Engine:
    """An engine for ``url``: SQLite with foreign keys, WAL and secure delete; PostgreSQL through psycopg 3.

    ``schema`` (PostgreSQL only) puts every table in that schema through the search path: tests isolate
    themselves this way. ``connections`` bounds the pool: a few are kept open, the rest opened when a burst
    needs them (SQLAlchemy's default, 15, is fewer than the requests a server handles at once).
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    pool = {"pool_size": min(POOL_KEPT, connections), "max_overflow": max(0, connections - POOL_KEPT)}
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _create_private(Path(parsed.database))
            engine = create_engine(parsed, **pool)
        else:
            engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        connect_args: dict[str, Any] = {}
        if schema is not None:
            connect_args["options"] = f"-csearch_path={schema}"
        return create_engine(parsed, connect_args=connect_args, pool_pre_ping=True, **pool)
    raise ConfigError(f"unsupported database {backend!r}: use sqlite:///PATH or postgresql+psycopg://...")


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (SQLite gives its WAL the same mode), whatever the
    folder's permissions; an existing file is left as the operator set it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    # WAL lets page readers go on while one process writes; secure_delete zeroes erased key bytes on disk.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def session_factory(engine: Engine, settings: CoopSettings) -> sessionmaker[Session]:
    """Sessions that carry ``settings`` (``settings_of``), so the audit log can sign without extra arguments."""
    return sessionmaker(engine, expire_on_commit=False, info={SETTINGS_KEY: settings})


def settings_of(session: Session) -> CoopSettings:
    settings = session.info.get(SETTINGS_KEY)
    if not isinstance(settings, CoopSettings):
        raise RuntimeError("this session was not made by tutti.coop.db.session_factory")
    return settings


def lock_cooperative(session: Session) -> None:
    """Hold the cooperative row's lock until the caller's transaction ends, as its first statement.

    Changes that must see each other's effects take it first (deciding a contribution, a withdrawal), so they
    run one at a time. On SQLite a write is the lock (one writer at a time); PostgreSQL locks the row.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Cooperative).where(Cooperative.id == 1).values(audit_seq=Cooperative.audit_seq))
    else:
        session.execute(select(Cooperative.id).where(Cooperative.id == 1).with_for_update())


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` (all of them by default); a no-op when already there.

    Processes that start together (the server, its workers, a CLI command) each upgrade: they take turns
    (``_migrating_alone``), so the second finds the work done instead of creating the same tables again.
    """
    config = _alembic_config()
    with _migrating_alone(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Transaction-scoped: released when this transaction commits, after the migrations.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


# Any constant will do, as long as nothing else in the database uses it for an advisory lock.
MIGRATION_LOCK_KEY = 0x7475_7474_6920  # "tutti "


@contextlib.contextmanager
def _migrating_alone(engine: Engine) -> Iterator[None]:
    """For a SQLite file, an exclusive lock on ``<file>.migrating`` beside it, held until the migrations are
    committed (SQLite serves one machine, and its DDL holds no lock across the statements of a migration).
    PostgreSQL takes its advisory lock inside the migrating transaction instead (``upgrade``)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with Path(f"{database}.migrating").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Undo migrations down to ``revision``; ``base`` drops every table of the cooperative."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def display_url(url: str) -> str:
    """The URL with any password masked, fit for messages."""
    return make_url(url).render_as_string(hide_password=True)


def scrub(engine: Engine, tables: tuple[str, ...], *, full: bool = False) -> bool:
    """Push what was deleted or overwritten out of the database's side files: SQLite's WAL is checkpointed into
    the database file (where ``secure_delete`` zeroed the freed bytes) and truncated; PostgreSQL vacuums
    ``tables`` (``full``: rewrites them, so not even dead tuples' pages remain). False when SQLite could not
    checkpoint everything (a reader held on), to be retried."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            busy, _frames, _moved = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            return not busy
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in tables:
            connection.execute(text(f"VACUUM {'FULL ' if full else ''}{table}"))
    return True
