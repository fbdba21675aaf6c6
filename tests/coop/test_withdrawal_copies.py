"""Withdrawal and copies, on SQLite and PostgreSQL with a real export (hobbies-w-erin, Spotify account data):
the withdrawing member's open copy cases are resolved as ``withdrawn`` with their evidence deleted, and other
members' altered copies of their history are held for the stewards, out of the pool and of every sale.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import delete, insert, select

from tests.conftest import samples_path
from tests.coop.conftest import NOW, CoopDb, events, give, join
from tests.helpers import copies as doctor
from tutti.coop.contributions import cases
from tutti.coop.engine.source import pool_source
from tutti.coop.members.withdrawal import withdraw
from tutti.coop.models import Contribution, ContributionStatus, CopyCase, HistoryShingle, Member
from tutti.coop.pool import catalog
from tutti.coop.pool.files import pool_of

pytestmark = pytest.mark.samples

ERIN = ("spotify-account", "hobbies-w-erin")
OTHER = ("spotify-extended", "mica-92")


def _row(db: CoopDb, contribution_id: str) -> Contribution:
    with db.sessions() as session:
        return session.get_one(Contribution, contribution_id)


def _sold_files(db: CoopDb, *member_ids: str) -> dict[str, int]:
    """How many pool files a sale's consent set (``engine.source.pool_source``) would open, per member."""
    with db.sessions() as session:
        members = [session.get_one(Member, m) for m in member_ids]
        keys = {m.pseudonym: b"\x00" * 32 for m in members}
        source = pool_source(session, pool_of(db.settings), keys)
        return {m.id: len(source.files.get(m.pseudonym, ())) for m in members}


def _withdraw(db: CoopDb, member_id: str) -> None:
    with db.sessions() as session:
        withdraw(session, db.settings, session.get_one(Member, member_id), now=NOW)


def test_an_open_case_of_a_withdrawing_member_is_resolved_and_the_others_stay_held(
    coop_db: CoopDb, tmp_path: Path
) -> None:
    db = coop_db
    copier, owner = join(db, "copier@example.org"), join(db, "owner@example.org")
    records = doctor.account_records(*ERIN)
    first = give(db, copier, [doctor.write_account(tmp_path / "copy", doctor.shifted(records, timedelta(hours=2)))])
    second = give(db, owner, [doctor.write_account(tmp_path / "original", records)])
    assert first.accepted and second.held
    evidence = db.settings.data_dir / str(_row(db, second.contribution_id).blob_path)
    assert evidence.is_file()
    old_case = _row(db, second.contribution_id).case_id

    _withdraw(db, owner)

    with db.sessions() as session:
        resolved = session.get_one(CopyCase, old_case)
        assert (resolved.resolution, resolved.owner_member_id) == (cases.WITHDRAWN, None)
        assert resolved.resolved_utc is not None
        [event] = events(session, "copy-case-resolved")
        assert orjson.loads(event.payload)["refused"] == [second.contribution_id]
        assert session.scalars(select(HistoryShingle).where(HistoryShingle.member_id == owner)).all() == []
        [still_open] = cases.open_cases(session)
    # The withdrawn side's evidence is gone; the other side waits for a steward in a case of its own.
    assert not evidence.exists()
    gone = _row(db, second.contribution_id)
    assert gone.status is ContributionStatus.REJECTED and gone.blob_path is None
    assert [c.contribution_id for c in still_open.contributions] == [first.contribution_id]
    assert _row(db, first.contribution_id).status is ContributionStatus.HELD
    assert _sold_files(db, copier) == {copier: 0}


def test_an_altered_copy_already_in_the_pool_is_held_and_left_out_of_sales(coop_db: CoopDb, tmp_path: Path) -> None:
    db = coop_db
    owner, copier, stranger = (join(db, f"{n}@example.org") for n in ("owner", "copier", "stranger"))
    records = doctor.account_records(*ERIN)
    original = give(db, owner, [doctor.write_account(tmp_path / "original", records)])
    # A copy pooled while the index did not know the original (an upload decided before copy detection, say):
    # the original's shingles are set aside while the copy is decided, then put back.
    with db.sessions.begin() as session:
        kept = [
            {"contribution_id": c, "member_id": m, "shingle": s}
            for c, m, s in session.execute(
                select(HistoryShingle.contribution_id, HistoryShingle.member_id, HistoryShingle.shingle).where(
                    HistoryShingle.member_id == owner
                )
            )
        ]
        session.execute(delete(HistoryShingle).where(HistoryShingle.member_id == owner))
    altered = doctor.invisible(doctor.shifted(doctor.random_subset(records, 0.6), timedelta(days=1)))
    copy = give(db, copier, [doctor.write_account(tmp_path / "copy", altered)])
    with db.sessions.begin() as session:
        session.execute(insert(HistoryShingle), kept)
    genuine = give(db, stranger, [samples_path(*OTHER)])
    assert original.accepted and copy.accepted and genuine.accepted
    assert _sold_files(db, copier, stranger) == {copier: 1, stranger: 1}

    _withdraw(db, owner)

    held = _row(db, copy.contribution_id)
    assert held.status is ContributionStatus.HELD and held.score == 0 and held.reasons == ["held:withdrawn"]
    # Out of every sale: the consent set opens none of its files, and the pool holds none of its plays.
    assert _sold_files(db, copier, stranger) == {copier: 0, stranger: 1}
    with db.sessions() as session:
        assert catalog.member_counts(session, session.get_one(Member, copier)).plays == 0
        [case] = cases.open_cases(session)
        assert [c.contribution_id for c in case.contributions] == [copy.contribution_id]
        assert [orjson.loads(e.payload)["contribution_id"] for e in events(session, "contribution-held")] == [
            copy.contribution_id
        ]
    # A genuine history of someone else is left alone.
    assert _row(db, genuine.contribution_id).status is ContributionStatus.ACCEPTED
    # Its sealed plays stay, as the case's evidence: a steward who finds the copier the owner pools them again.
    assert held.blob_path is not None and (db.settings.data_dir / held.blob_path).is_file()
