"""A withdrawal killed at each of its steps, on SQLite and PostgreSQL: a process withdrawing a member who pooled a
real export (and has another upload waiting) is killed with SIGKILL at the step (the ``TUTTI_COOP_CRASH_AT`` test
hook); the member is withdrawn from the first commit on, and when the cooperative next opens the withdrawal is
completed exactly once: one ``member-withdrew`` and one ``key-destroyed`` in the log, no file left, the key gone,
the other member's plays untouched."""

from __future__ import annotations

import base64
import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import samples_path
from tests.coop.conftest import CoopDb, EmptyDb, cli_database_url, events, files_of, give, join, migrated_cooperative
from tests.coop.conftest import submit as submit_upload
from tutti.coop import audit, bootstrap, crypto, staged
from tutti.coop.errors import NotAllowed, Unauthenticated
from tutti.coop.members import accounts
from tutti.coop.members.withdrawal import CRASH_AT, CRASH_POINTS
from tutti.coop.models import Member, PoolFile, Status, Withdrawal, WithdrawalStep
from tutti.coop.pool import catalog
from tutti.coop.pool.files import pool_of
from tutti.coop.settings import MASTER_KEY, CoopSettings

LEAVING, STAYING = "leaving@example.org", "staying@example.org"
PASSWORD = "a long enough passphrase"
EXPORT = ("spotify-extended", "mica-92")
OTHER = ("spotify-extended", "candidlyred")
WITHDRAW = """
import sys
from pathlib import Path
from tutti.coop.bootstrap import open_cooperative
from tutti.coop.db import session_factory
from tutti.coop.members.withdrawal import withdraw
from tutti.coop.models import Member

running = open_cooperative(Path(sys.argv[1]), sys.argv[2])
with session_factory(running.engine, running.settings)() as session:
    withdraw(session, running.settings, session.get_one(Member, sys.argv[3]))
print("withdrawn")
"""


@pytest.fixture
def db(empty_db: EmptyDb, coop_settings: CoopSettings) -> CoopDb:
    """A founded cooperative under a random master key: a process started from the command line refuses the tests'
    well-known one."""
    settings = dataclasses.replace(coop_settings, master_key=os.urandom(32), session_secret=os.urandom(32))
    return migrated_cooperative(empty_db, settings)


def _files_of_member(data: Path, member_id: str, pseudonym: str) -> list[Path]:
    found = [p for p in data.rglob("*") if p.is_file() and (member_id in str(p) or pseudonym in str(p))]
    return found + [p for p in data.rglob(f"*{staged.STAGED_SUFFIX}")]


@pytest.mark.samples
@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_withdrawal_killed_at_any_step_completes_exactly_once_at_the_next_start(
    db: CoopDb, empty_db: EmptyDb, tmp_path: Path, point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert db.settings.data_dir == tmp_path / "coop"
    leaving, staying = join(db, LEAVING), join(db, STAYING)
    pooled = give(db, leaving, [samples_path(*EXPORT)])
    kept = give(db, staying, [samples_path(*OTHER)])
    submit_upload(db, leaving, files_of(*EXPORT))  # waits for validation when the member leaves
    with db.sessions() as session:
        pseudonym = session.get_one(Member, leaving).pseudonym
    data = db.settings.data_dir
    assert pooled.accepted and _files_of_member(data, leaving, pseudonym)

    monkeypatch.setenv(MASTER_KEY.env, base64.b64encode(db.settings.master_key).decode())
    url = cli_database_url(empty_db)
    process = subprocess.run(
        [sys.executable, "-c", WITHDRAW, str(tmp_path), url, leaving],
        env={**os.environ, CRASH_AT: point},
        capture_output=True,
        timeout=300,
    )
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()[-2000:]

    # Killed: the member is out from the first commit on, whatever the step.
    with db.sessions() as session:
        member = session.get_one(Member, leaving)
        assert member.status is Status.WITHDRAWN and member.email_sealed is None and member.email_lookup is None
        assert session.get_one(Withdrawal, leaving).step is not None
    with pytest.raises(NotAllowed):
        give(db, leaving, [samples_path(*EXPORT)])  # the same export cannot be pooled again for points
    with db.sessions() as session, pytest.raises(Unauthenticated):
        accounts.login(session, LEAVING, PASSWORD)

    bootstrap.open_cooperative(tmp_path, url).engine.dispose()  # the restart
    bootstrap.open_cooperative(tmp_path, url).engine.dispose()  # and another: nothing happens twice

    with db.sessions() as session:
        row = session.get_one(Withdrawal, leaving)
        assert row.step is WithdrawalStep.DONE and row.finished_utc is not None
        assert (row.member_rows, row.pool_files) == (pooled.plays_added, 1)
        member = session.get_one(Member, leaving)
        assert crypto.key_destroyed(session, member)
        assert [e.member_id for e in events(session, "member-withdrew")] == [leaving]
        assert [e.member_id for e in events(session, "key-destroyed")] == [leaving]
        assert audit.verify_chain(session) == (True, None)
        assert catalog.counts(session).per_member == {session.get_one(Member, staying).pseudonym: kept.plays_added}
        assert session.scalar(select(func.count()).select_from(PoolFile).where(PoolFile.member_id == leaving)) == 0
        assert catalog.reconcile(session, pool_of(db.settings)).consistent
    assert _files_of_member(data, leaving, pseudonym) == []
