"""Copy cases: the thief who uploads first gains nothing, the owner shows a newer export, a steward resolves.

On SQLite and PostgreSQL, with the real successive exports of one person (fedecalendino: November 2020, then
January 2021, which extends the first).
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from tests.conftest import samples_path
from tests.coop.conftest import CoopDb, EmptyDb, cli_database_url, events, give, join, steward_of
from tutti.cli import app
from tutti.coop import audit
from tutti.coop.contributions import cases
from tutti.coop.db import session_factory
from tutti.coop.errors import InvalidInput, NotAllowed
from tutti.coop.models import Contribution, ContributionStatus, HistoryShingle, Member, Role
from tutti.coop.pool.files import pool_of
from tutti.coop.settings import MASTER_KEY, load_coop_settings

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
    # The codes in the clear on the row; the worded report is sealed with the member's key.
    assert refused.reasons == ["refused:newer-export"]
    assert [r.reasons for r in released] == [["released:newer-export"]] * 2
    # The evidence of the refused side is gone: its sealed plays and its shingles.
    assert not (db.settings.data_dir / "contributions" / thief / f"{stolen.contribution_id}.blob").exists()
    with db.sessions() as session:
        shingles = select(func.count()).select_from(HistoryShingle)
        assert session.scalar(shingles.where(HistoryShingle.contribution_id == stolen.contribution_id)) == 0
        assert (session.scalar(shingles.where(HistoryShingle.member_id == owner)) or 0) > 0
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


@pytest.mark.samples
def test_the_command_line_lists_and_resolves_a_case(
    empty_db: EmptyDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MASTER_KEY.env, raising=False)
    monkeypatch.setenv("TUTTI_STEWARD_PASSWORD", "a steward's long password")
    monkeypatch.setenv("COLUMNS", "250")  # whole ids on one line
    home, url = tmp_path / "home", cli_database_url(empty_db)
    founded = CliRunner().invoke(
        app,
        [
            "coop",
            "init",
            "--name",
            "Owls",
            "--steward-email",
            "s@example.org",
            "--home",
            str(home),
            "--database-url",
            url,
        ],
    )
    assert founded.exit_code == 0, founded.output
    settings = load_coop_settings(home, url)
    db = CoopDb(empty_db.kind, empty_db.engine, session_factory(empty_db.engine, settings), settings)
    owner, copier = join(db, "owner@example.org"), join(db, "copier@example.org")
    original = give(db, owner, [samples_path("spotify-extended", "mica-92")])
    copy = give(db, copier, [samples_path("spotify-extended", "mica-92")])
    assert copy.held
    cli = ["--home", str(home), "--database-url", url]
    listed = CliRunner().invoke(app, ["coop", "cases", "list", *cli])
    assert listed.exit_code == 0, listed.output
    assert original.contribution_id in listed.stdout and copy.contribution_id in listed.stdout
    with db.sessions() as session:
        [case] = cases.open_cases(session)
        steward = session.scalars(select(Member).where(Member.role == Role.STEWARD)).one().id

    def resolve(acting: str, resolution: str) -> Result:
        args = ["coop", "cases", "resolve", case.case_id, "--steward", acting, "--owner", owner]
        return CliRunner().invoke(app, [*args, "--resolution", resolution, *cli])

    refused = resolve(owner, "newer-export")  # the owner is no steward
    assert refused.exit_code == 1 and row(db, copy.contribution_id).status is ContributionStatus.HELD
    resolved = resolve(steward, "steward-evidence")
    assert resolved.exit_code == 0, resolved.output
    assert "1 contribution(s) accepted, 1 rejected" in resolved.stdout
    assert row(db, original.contribution_id).status is ContributionStatus.ACCEPTED
    assert row(db, copy.contribution_id).status is ContributionStatus.REJECTED
    assert "no open copy cases" in CliRunner().invoke(app, ["coop", "cases", "list", *cli]).stdout
