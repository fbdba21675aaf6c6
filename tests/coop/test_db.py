"""The cooperative's database, settings and `tutti coop init`, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import typer
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from argon2 import PasswordHasher
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from tests.conftest import ROOT
from tests.coop.conftest import CoopDb, EmptyDb, cli_database_url
from tutti.cli import app, coop_app
from tutti.coop import audit
from tutti.coop.db import (
    MIGRATIONS,
    _alembic_config,
    current_revision,
    downgrade,
    make_engine,
    session_factory,
    table_names,
    upgrade,
)
from tutti.coop.errors import ConfigError
from tutti.coop.members import accounts, emails
from tutti.coop.models import AuditEvent, Base, Cooperative, Member, Role, Status
from tutti.coop.settings import (
    COOP_SETTINGS,
    MASTER_KEY,
    PASSWORD_MEMORY_KIB,
    PASSWORD_TIME_COST,
    TEST_MASTER_KEY,
    CoopSettings,
    create_master_key_file,
    database_url_for,
    load_coop_settings,
)

README = (ROOT / "README.md").read_text(encoding="utf-8")
HEAD = ScriptDirectory.from_config(_alembic_config()).get_current_head()
TABLES = {table.name for table in Base.metadata.sorted_tables}


def test_migrations_build_the_schema_the_models_describe(empty_db: EmptyDb) -> None:
    assert table_names(empty_db.engine) == set()
    upgrade(empty_db.engine)
    assert current_revision(empty_db.engine) == HEAD
    assert table_names(empty_db.engine) == TABLES | {"alembic_version"}
    with empty_db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrading_twice_changes_nothing(coop_db: CoopDb) -> None:
    upgrade(coop_db.engine)
    assert current_revision(coop_db.engine) == HEAD
    with coop_db.sessions() as session:
        assert session.scalar(select(Cooperative.name)) == "Test cooperative"


def test_sqlite_downgrades_to_empty_and_upgrades_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'coop.sqlite'}")
    upgrade(engine)
    downgrade(engine, "base")
    assert table_names(engine) == {"alembic_version"}
    assert current_revision(engine) is None
    upgrade(engine)
    assert table_names(engine) == TABLES | {"alembic_version"}
    engine.dispose()


def test_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert sorted(p.name for p in (MIGRATIONS / "versions").glob("v*.py"))[0] == "v0001_foundation.py"


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'coop.sqlite'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA secure_delete")).scalar() == 1
    engine.dispose()


def test_times_come_back_aware_and_in_utc(coop_db: CoopDb) -> None:
    signed_up = datetime(2024, 3, 1, 23, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5)))
    with coop_db.sessions.begin() as session:
        member_id = accounts.signup(session, "tz@example.org", "a long enough password", now=signed_up).id
    with coop_db.sessions() as session:
        member = session.get_one(Member, member_id)
        assert member.created_utc == signed_up
        assert member.created_utc.tzinfo is UTC
        assert member.created_utc.hour == 4


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO member (id, email, role, status, created_utc, pseudonym) "
        "VALUES ('m1', 'Upper@Example.org', 'member', 'active', CURRENT_TIMESTAMP, 'p1')",
        "INSERT INTO member (id, email, role, status, created_utc, pseudonym) "
        "VALUES ('m1', 'a@example.org', 'owner', 'active', CURRENT_TIMESTAMP, 'p1')",
        "INSERT INTO cooperative (id, name, created_utc, signing_public_key, signing_key_wrapped, audit_seq, "
        "audit_head) SELECT 2, name, created_utc, signing_public_key, signing_key_wrapped, 0, audit_head "
        "FROM cooperative",
        "INSERT INTO contribution (id, member_id, created_utc, status, reasons, report, plays_added, score) "
        "VALUES ('c1', 'nobody', CURRENT_TIMESTAMP, 'accepted', '[]', '{}', 0, 0)",
    ],
    ids=["uppercase-email", "unknown-role", "second-cooperative", "orphan-contribution"],
)
def test_the_schema_itself_refuses_bad_rows(coop_db: CoopDb, statement: str) -> None:
    with coop_db.engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(text(statement))


def test_cooperative_settings_are_documented() -> None:
    assert "### Cooperative settings" in README
    for setting in COOP_SETTINGS:
        assert f"| `{setting.env}` |" in README, f"{setting.env} is missing from the README's settings table"


def _commands(group: typer.Typer, prefix: str) -> list[str]:
    names = [f"{prefix} {c.name or (c.callback.__name__ if c.callback else '')}" for c in group.registered_commands]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None and sub.name
        names += _commands(sub.typer_instance, f"{prefix} {sub.name}")
    return names


def test_every_coop_command_is_documented() -> None:
    commands = _commands(coop_app, "tutti coop")
    assert "tutti coop log verify" in commands
    for name in commands:
        assert name in README, f"`{name}` is not in the README"


@pytest.mark.parametrize("value", ["", "  ", "changethis", "bm90IGEga2V5", base64.b64encode(bytes(32)).decode()])
def test_empty_or_placeholder_master_keys_are_refused(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MASTER_KEY.env, value)
    with pytest.raises(ConfigError, match=MASTER_KEY.env):
        load_coop_settings(tmp_path)


def test_the_test_master_key_is_refused_outside_tests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MASTER_KEY.env, base64.b64encode(TEST_MASTER_KEY).decode())
    with pytest.raises(ConfigError, match="placeholder"):
        load_coop_settings(tmp_path)


def test_a_random_master_key_from_the_environment_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = os.urandom(32)
    monkeypatch.setenv(MASTER_KEY.env, base64.b64encode(key).decode())
    settings = load_coop_settings(tmp_path)
    assert settings.master_key == key
    assert not (tmp_path / "coop" / "master.key").exists()
    assert "master_key=" not in repr(settings) and "session_secret=" not in repr(settings)


def test_the_master_key_file_is_private_and_never_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASTER_KEY.env, raising=False)
    with pytest.raises(ConfigError, match="no master key"):
        load_coop_settings(tmp_path)
    settings = load_coop_settings(tmp_path, create_key=True)
    path = tmp_path / "coop" / "master.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_coop_settings(tmp_path).master_key == settings.master_key
    with pytest.raises(ConfigError, match="never overwritten"):
        create_master_key_file(tmp_path / "coop")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_coop_settings(tmp_path)


def test_database_urls_default_to_sqlite_and_plain_postgres_urls_use_psycopg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TUTTI_DATABASE_URL", raising=False)
    assert database_url_for(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'coop.sqlite'}"
    assert database_url_for(tmp_path, "postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv("TUTTI_DATABASE_URL", "postgres://u@h/db")
    assert database_url_for(tmp_path) == "postgresql+psycopg://u@h/db"


def test_coop_init_founds_a_cooperative_once(
    empty_db: EmptyDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MASTER_KEY.env, raising=False)
    monkeypatch.setenv("TUTTI_STEWARD_PASSWORD", "a steward's long password")
    home, url = tmp_path / "home", cli_database_url(empty_db)
    args = ["coop", "init", "--name", "Night Owls", "--steward-email", " Ada@Example.org", "--home", str(home)]
    result = CliRunner().invoke(app, [*args, "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "founded the cooperative Night Owls" in result.stdout
    assert "a steward's long password" not in result.output
    key_file = home / "coop" / "master.key"
    assert key_file.stat().st_mode & 0o777 == 0o600

    settings = load_coop_settings(home, url)
    with session_factory(empty_db.engine, settings)() as session:
        steward = session.scalars(select(Member)).one()
        assert emails.email_of(session, settings, steward) == "ada@example.org"
        assert (steward.role, steward.status) == (Role.STEWARD, Status.ACTIVE)
        assert audit.verify_chain(session) == (True, None)
        kinds = session.scalars(select(AuditEvent.kind).order_by(AuditEvent.seq)).all()
        assert kinds == ["cooperative-founded", "member-joined", "member-admitted", "role-changed"]
        member, _, _ = accounts.login(session, "ada@example.org", "a steward's long password")
        assert member.id == steward.id

    again = CliRunner().invoke(app, [*args, "--database-url", url])
    assert again.exit_code == 1
    assert "already holds the cooperative 'Night Owls'" in again.stderr
    with session_factory(empty_db.engine, settings)() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 1


def test_coop_init_refuses_a_weak_password_before_making_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MASTER_KEY.env, raising=False)
    monkeypatch.delenv("TUTTI_DATABASE_URL", raising=False)
    monkeypatch.setenv("TUTTI_STEWARD_PASSWORD", "short")
    home = tmp_path / "home"
    result = CliRunner().invoke(app, ["coop", "init", "--name", "N", "--steward-email", "a@b.org", "--home", str(home)])
    assert result.exit_code == 1
    assert "password is too weak" in result.stderr
    assert not (home / "coop" / "master.key").exists()


def test_coop_init_refuses_a_placeholder_key_before_asking_for_a_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MASTER_KEY.env, "changethis")
    monkeypatch.delenv("TUTTI_STEWARD_PASSWORD", raising=False)
    monkeypatch.delenv("TUTTI_DATABASE_URL", raising=False)
    args = ["coop", "init", "--name", "N", "--steward-email", "a@b.org", "--home", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert MASTER_KEY.env in result.stderr and "placeholder" in result.stderr
    assert "password" not in result.stdout.lower()


def test_the_password_cost_comes_from_the_environment_and_defaults_to_argon2s_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MASTER_KEY.env, base64.b64encode(os.urandom(32)).decode())
    for setting in (PASSWORD_TIME_COST, PASSWORD_MEMORY_KIB):
        monkeypatch.delenv(setting.env, raising=False)
    default, library = load_coop_settings(tmp_path), PasswordHasher()
    assert (default.password_time_cost, default.password_memory_kib) == (library.time_cost, library.memory_cost)
    monkeypatch.setenv(PASSWORD_TIME_COST.env, "4")
    monkeypatch.setenv(PASSWORD_MEMORY_KIB.env, "131072")
    dearer = load_coop_settings(tmp_path)
    assert (dearer.password_time_cost, dearer.password_memory_kib) == (4, 131072)
    for setting, value in [(PASSWORD_TIME_COST, "0"), (PASSWORD_MEMORY_KIB, "4096"), (PASSWORD_MEMORY_KIB, "64M")]:
        monkeypatch.setenv(setting.env, value)
        with pytest.raises(ConfigError, match=setting.env):
            load_coop_settings(tmp_path)
        monkeypatch.delenv(setting.env)


def test_settings_for_tests_use_the_test_key(tmp_path: Path) -> None:
    settings = CoopSettings.for_tests(tmp_path, "sqlite://")
    assert settings.master_key == TEST_MASTER_KEY
    assert settings.session_secret != TEST_MASTER_KEY


_UPGRADE = """
import sys
from tutti.coop.db import make_engine, upgrade
engine = make_engine(sys.argv[1], schema=sys.argv[2] or None)
upgrade(engine)
"""


def test_processes_starting_together_migrate_once_without_tripping_over_each_other(empty_db: EmptyDb) -> None:
    # The server, its worker and a CLI command started at once each apply the migrations to a new database.
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", _UPGRADE, empty_db.url, empty_db.schema or ""],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = [(start.wait(timeout=120), start.communicate()[1]) for start in starts]
    assert [code for code, _ in outcomes] == [0, 0, 0, 0], [err[-400:] for code, err in outcomes if code]
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert current_revision(empty_db.engine) == head
    with empty_db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
