"""Copy cases: the thief who uploads first gains nothing, the owner shows a newer export, a steward resolves.

On SQLite and PostgreSQL, with the real successive exports of one person (fedecalendino: November 2020, then
January 2021, which extends the first).
"""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import func, select

from tests.conftest import samples_path
from tests.coop.conftest import CoopDb, events, give, join, steward_of
from tutti.coop import audit
from tutti.coop.contributions import cases
from tutti.coop.errors import InvalidInput, NotAllowed
from tutti.coop.models import Contribution, ContributionStatus, HistoryShingle, Member
from tutti.coop.pool.files import pool_of

OLDER = ("spotify-account", "fedecalendino-2020-11")
NEWER = ("spotify-account", "fedecalendino-2021-01")


def row(db: CoopDb, contribution_id: str) -> Contribution:
    with db.sessions() as session:
        return session.get_one(Contribution, contribution_id)


@pytest.mark.samples
def test_the_owner_second_is_held_with_the_thief_and_a_steward_gives_it_back(founded_db: CoopDb) -> None:
    db = founded_db
    thief, owner = join(db, "thief@example.org"), join(db, "owner@example.org")
    stolen = give(db, thief, [samples_path(*OLDER)])
    assert stolen.accepted and stolen.points > 0  # nothing to compare with yet
    mine = give(db, owner, [samples_path(*OLDER)])
    assert mine.held and row(db, stolen.contribution_id).status is ContributionStatus.HELD
    assert pool_of(db.settings).footer_counts().total == 0  # neither side is in the pool, neither earns
    newer = give(db, owner, [samples_path(*NEWER)])
    assert newer.held and newer.points == 0
    with db.sessions() as session:
        [case] = cases.open_cases(session)
    assert {c.contribution_id for c in case.contributions} == {
        stolen.contribution_id,
        mine.contribution_id,
        newer.contribution_id,
    }
    further = [c for c in case.contributions if c.reaches_further]
    assert [(c.member_id, c.contribution_id) for c in further] == [(owner, newer.contribution_id)]

    # Only a steward resolves, and only naming a member of the case, once.
    with db.sessions.begin() as session, pytest.raises(NotAllowed):
        cases.resolve(session, db.settings, session.get_one(Member, thief), case.case_id, thief, "newer-export")
    with db.sessions.begin() as session:
        stranger = join(db, "stranger@example.org")
        with pytest.raises(InvalidInput):
            cases.resolve(session, db.settings, steward_of(session), case.case_id, stranger, "newer-export")
    with db.sessions.begin() as session:
        steward = steward_of(session)
        resolved = cases.resolve(session, db.settings, steward, case.case_id, owner, "newer-export")
    assert set(resolved.released) == {mine.contribution_id, newer.contribution_id}
    assert resolved.refused == (stolen.contribution_id,)
    with db.sessions.begin() as session, pytest.raises(InvalidInput, match="resolved already"):
        cases.resolve(session, db.settings, steward_of(session), case.case_id, owner, "newer-export")

    released = [row(db, c) for c in (mine.contribution_id, newer.contribution_id)]
    refused = row(db, stolen.contribution_id)
    assert all(r.status is ContributionStatus.ACCEPTED and r.score > 0 for r in released)
    assert refused.status is ContributionStatus.REJECTED and refused.score == 0 and refused.blob_path is None
    # The evidence of the refused side is gone: its sealed plays and its shingles.
    assert not (db.settings.data_dir / "contributions" / thief / f"{stolen.contribution_id}.blob").exists()
    with db.sessions() as session:
        shingles = select(func.count()).select_from(HistoryShingle)
        assert session.scalar(shingles.where(HistoryShingle.contribution_id == stolen.contribution_id)) == 0
        assert session.scalar(shingles.where(HistoryShingle.member_id == owner)) > 0
        counts = pool_of(db.settings).footer_counts().per_member
        owner_pseudonym = session.get_one(Member, owner).pseudonym
        assert list(counts) == [owner_pseudonym]
        # The newer export adds only what the older one lacked (the real increment, 7,388 records).
        assert released[1].plays_added == 7_388 and counts[owner_pseudonym] == sum(r.plays_added for r in released)
        [logged] = events(session, "copy-case-resolved")
        event = audit.load_event(logged)
        assert event == audit.CopyCaseResolved(
            steward.id, case.case_id, owner, "newer-export", resolved.released, resolved.refused
        )
        payload = orjson.loads(logged.payload)
        assert set(payload) == {"member_id", "case_id", "owner_id", "resolution", "released", "refused"}
        assert "@" not in logged.payload and audit.verify_chain(session) == (True, None)
        assert cases.open_cases(session) == []


@pytest.mark.samples
def test_a_case_resolved_for_nobody_refuses_every_side(founded_db: CoopDb) -> None:
    db = founded_db
    a, b = join(db, "a@example.org"), join(db, "b@example.org")
    first = give(db, a, [samples_path("spotify-extended", "mica-92")])
    second = give(db, b, [samples_path("spotify-extended", "mica-92")])
    assert second.held
    with db.sessions.begin() as session:
        [case] = cases.open_cases(session)
        with pytest.raises(InvalidInput):
            cases.resolve(session, db.settings, steward_of(session), case.case_id, a, "no-owner")
        with pytest.raises(InvalidInput):
            cases.resolve(session, db.settings, steward_of(session), case.case_id, a, "because I said so")
        done = cases.resolve(session, db.settings, steward_of(session), case.case_id, None, "no-owner")
    assert set(done.refused) == {first.contribution_id, second.contribution_id} and done.released == ()
    assert pool_of(db.settings).footer_counts().total == 0
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(HistoryShingle)) == 0
