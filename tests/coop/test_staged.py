"""Files that follow the transaction, on SQLite and PostgreSQL: a contribution or a withdrawal rolled back leaves
the data folder as it was; committed, its files are in place."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import samples_path
from tests.coop.conftest import NOW, CoopDb, give, join
from tutti.coop import crypto, staged
from tutti.coop.contributions.pipeline import contribute
from tutti.coop.members.withdrawal import decide
from tutti.coop.models import Member, MemberKey
from tutti.coop.pool import catalog
from tutti.coop.pool.files import pool_of

EXPORT = ("spotify-extended", "efrrowini")


def everything_in(folder: Path) -> set[Path]:
    """Every file and folder under ``folder``, hidden ones included."""
    return set(folder.rglob("*")) if folder.exists() else set()


@pytest.mark.samples
def test_a_contribution_rolled_back_leaves_no_file(coop_db: CoopDb) -> None:
    member_id = join(coop_db, "undo@example.org")
    data = coop_db.settings.data_dir
    before = everything_in(data)
    with coop_db.sessions() as session:
        member = session.get_one(Member, member_id)
        report = contribute(session, coop_db.settings, member, [samples_path(*EXPORT)], now=NOW)
        assert report.accepted and report.plays_added > 0
        # Until the commit the new files are hidden: no listing or count sees them.
        assert pool_of(coop_db.settings).footer_counts().total == 0
        session.rollback()
    assert everything_in(data) == before
    with coop_db.sessions() as session:
        assert catalog.counts(session).total == 0
        assert catalog.reconcile(session, pool_of(coop_db.settings)).consistent


@pytest.mark.samples
def test_a_contribution_committed_leaves_its_files(coop_db: CoopDb) -> None:
    member_id = join(coop_db, "keep@example.org")
    report = give(coop_db, member_id, [samples_path(*EXPORT)])
    data = coop_db.settings.data_dir
    with coop_db.sessions() as session:
        member = session.get_one(Member, member_id)
    pool = pool_of(coop_db.settings)
    assert [p.name for p in pool.files(member.pseudonym)] == [f"part-{report.contribution_id}.parquet"]
    assert pool.footer_counts().total == report.plays_added
    with coop_db.sessions() as session:
        # The catalog row came with the file, and says what the file's own footer says.
        assert catalog.counts(session).total == report.plays_added
        assert catalog.reconcile(session, pool).consistent
    assert (data / "contributions" / member_id / f"{report.contribution_id}.blob").is_file()
    assert not [p for p in everything_in(data) if p.name.endswith(staged.STAGED_SUFFIX)]


@pytest.mark.samples
def test_a_session_closed_without_commit_leaves_no_file(coop_db: CoopDb) -> None:
    member_id = join(coop_db, "close@example.org")
    before = everything_in(coop_db.settings.data_dir)
    with coop_db.sessions() as session:
        contribute(session, coop_db.settings, session.get_one(Member, member_id), [samples_path(*EXPORT)], now=NOW)
    assert everything_in(coop_db.settings.data_dir) == before


@pytest.mark.samples
def test_a_withdrawal_rolled_back_keeps_every_file_and_the_key(coop_db: CoopDb) -> None:
    member_id = join(coop_db, "stay@example.org")
    report = give(coop_db, member_id, [samples_path(*EXPORT)])
    data = coop_db.settings.data_dir
    before = everything_in(data)
    with coop_db.sessions() as session:
        # The deciding transaction, refused at its commit: no file goes before the decision is committed.
        decide(session, coop_db.settings, session.get_one(Member, member_id), now=NOW)
        assert catalog.member_counts(session, session.get_one(Member, member_id)).plays == 0
        assert everything_in(data) == before
        session.rollback()
    assert everything_in(data) == before
    with coop_db.sessions() as session:
        member = session.get_one(Member, member_id)
        assert session.scalars(select(MemberKey.wrapped_key).where(MemberKey.member_id == member_id)).one()
        key = crypto.member_key(session, member, coop_db.settings)
        assert pool_of(coop_db.settings).member_table(member.pseudonym, key).num_rows == report.plays_added


def test_a_savepoint_rolled_back_undoes_only_its_own_files(coop_db: CoopDb, tmp_path: Path) -> None:
    kept, dropped = tmp_path / "out" / "kept.bin", tmp_path / "out" / "dropped.bin"
    with coop_db.sessions() as session:
        staged.write_on_commit(session, kept, lambda to: to.write_bytes(b"kept"))
        savepoint = session.begin_nested()
        staged.write_on_commit(session, dropped, lambda to: to.write_bytes(b"dropped"))
        savepoint.rollback()
        assert not kept.exists() and not dropped.exists()
        released = session.begin_nested()
        staged.write_on_commit(session, dropped, lambda to: to.write_bytes(b"again"))
        released.commit()
        # A released savepoint is not a commit: nothing is in place before the outer transaction commits.
        assert not dropped.exists()
        session.commit()
    assert kept.read_bytes() == b"kept" and dropped.read_bytes() == b"again"
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"kept.bin", "dropped.bin"}


def test_a_deletion_happens_on_commit_and_the_session_is_reusable(coop_db: CoopDb, tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    doomed = folder / "doomed.bin"
    doomed.write_bytes(b"x")
    session: Session
    with coop_db.sessions() as session:
        assert staged.delete_on_commit(session, doomed)
        assert not doomed.exists()
        session.rollback()
        assert doomed.read_bytes() == b"x"
        assert staged.delete_on_commit(session, doomed) and not staged.delete_on_commit(session, doomed)
        session.commit()
    assert list(folder.iterdir()) == []
