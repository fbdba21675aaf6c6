"""``tutti coop proposals``, ``buyers`` and ``members`` against a cooperative founded by ``tutti coop init``, on
both databases: a vote past its window is closed from the command line and recounted from its published ballots;
a steward decides a buyer application and sets a role; a tampered ballot list fails the recount."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from tests.coop.conftest import EmptyDb, cli_database_url
from tests.helpers.governance import member
from tutti.cli import app
from tutti.coop.db import session_factory
from tutti.coop.governance import ballots, buyers, proposals
from tutti.coop.models import BallotBox, Member, Role, utcnow
from tutti.coop.settings import MASTER_KEY, load_coop_settings

STEWARD = "ada@example.org"


def test_stewards_and_operators_govern_from_the_command_line(
    empty_db: EmptyDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MASTER_KEY.env, raising=False)
    monkeypatch.setenv("TUTTI_STEWARD_PASSWORD", "a steward's long password")
    home, url = tmp_path / "home", cli_database_url(empty_db)
    where = ["--home", str(home), "--database-url", url]
    runner = CliRunner()
    founded = runner.invoke(app, ["coop", "init", "--name", "Owls", "--steward-email", STEWARD, *where])
    assert founded.exit_code == 0, founded.output
    sessions = session_factory(empty_db.engine, load_coop_settings(home, url))
    began = utcnow() - timedelta(days=2)
    with sessions.begin() as session:
        steward = session.query(Member).filter(Member.role == Role.STEWARD).one()
        steward_id = steward.id
        bo = member(session, "bo@example.org", now=began - timedelta(days=1))
        lab = member(session, "data@lab.example", now=began - timedelta(days=1))
        application = buyers.apply(session, lab, "Lab", "researcher", "Research.")
        draft = proposals.draft_policy(session, bo, "Lower the fee", {"fee_basis_points": 700})
        proposals.open_vote(session, steward, draft.id, voting_days=1, now=began)
        ballots.cast(session, bo, draft, "yes", now=began + timedelta(hours=1))
        ids = {"bo": bo.id, "lab": lab.id, "application": application.id, "proposal": draft.id}

    listed = runner.invoke(app, ["coop", "buyers", "list", *where])
    assert ids["application"] in listed.stdout
    decided = runner.invoke(
        app, ["coop", "buyers", "decide", ids["application"], "--steward", steward_id, "--approve", *where]
    )
    assert decided.exit_code == 0 and "approved" in decided.stdout
    refused = runner.invoke(app, ["coop", "members", "role", ids["bo"], "steward", "--steward", ids["bo"], *where])
    assert refused.exit_code == 1 and "steward" in refused.stderr
    promoted = runner.invoke(app, ["coop", "members", "role", ids["bo"], "steward", "--steward", steward_id, *where])
    assert promoted.exit_code == 0, promoted.output

    early = runner.invoke(app, ["coop", "proposals", "recount", ids["proposal"], *where])
    assert early.exit_code == 1 and "secret until the vote closes" in early.stderr
    closed = runner.invoke(app, ["coop", "proposals", "close", *where])
    assert closed.exit_code == 0 and f"{ids['proposal']}: executed (passed)" in closed.stdout
    assert "no vote is due" in runner.invoke(app, ["coop", "proposals", "close", *where]).stdout
    assert ids["proposal"] in runner.invoke(app, ["coop", "proposals", "list", *where]).stdout
    recounted = runner.invoke(app, ["coop", "proposals", "recount", ids["proposal"], *where])
    assert recounted.exit_code == 0, recounted.output
    assert "1 ballots: yes 1, no 0, abstain 0: passed" in recounted.stdout
    assert "agrees with the announced tally and the log" in recounted.stdout

    with sessions.begin() as session:  # an operator rewrites a published ballot
        box = session.get_one(BallotBox, ids["proposal"])
        session.execute(
            update(BallotBox)
            .where(BallotBox.proposal_id == ids["proposal"])
            .values(ballots=[[box.ballots[0][0], "no", 1]])
        )
    tampered = runner.invoke(app, ["coop", "proposals", "recount", ids["proposal"], *where])
    assert tampered.exit_code == 1 and "differs from the announced tally" in tampered.stderr
