"""Anyone with a read token recounts a closed vote from what a running server publishes, on both databases:
``tutti coop proposals recount --server`` recomputes the tally and the outcome from the ballot list."""

from __future__ import annotations

from datetime import timedelta

from typer.testing import CliRunner

from tests.helpers.governance import member, steward
from tests.web.conftest import LiveServer
from tutti.cli import app
from tutti.coop.governance import ballots, closing, proposals
from tutti.coop.members import tokens
from tutti.coop.models import utcnow


def test_a_member_recounts_a_closed_vote_from_the_servers_published_ballots(live_server: LiveServer) -> None:
    began = utcnow() - timedelta(days=2)
    with live_server.db.sessions.begin() as session:
        ada = member(session, "ada@example.org", now=began - timedelta(days=1))
        draft = proposals.draft_policy(session, ada, "Shorter votes", {"voting_days": 3})
        proposals.open_vote(session, steward(session), draft.id, voting_days=1, now=began)
        ballots.cast(session, ada, draft, "yes", now=began + timedelta(hours=1))
        ballots.cast(session, steward(session), draft, "no", now=began + timedelta(hours=2))
        _row, secret = tokens.create_api_token(session, ada, scopes=["read"])
        proposal_id = draft.id
    command = ["coop", "proposals", "recount", proposal_id, "--server", live_server.url, "--token", secret]
    with live_server.db.sessions.begin() as session:  # the server's worker may have closed it already: a no-op then
        closing.close(session, proposal_id)
    recounted = CliRunner().invoke(app, command)
    assert recounted.exit_code == 0, recounted.output
    assert "2 ballots: yes 1, no 1, abstain 0: failed" in recounted.stdout
    assert "agrees with the announced tally" in recounted.stdout
