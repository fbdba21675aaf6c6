"""Voting speed: how long one vote takes as the ballot box fills, and how long the close takes.

Every ballot of a proposal lives in one row that each vote rewrites whole (``tutti.coop.governance.ballots``):
that is what keeps ballots unlinkable to voters, and it makes a vote's cost grow with the number of ballots
already cast. This measures it: a cooperative on SQLite (or PostgreSQL with ``--database-url``) in a scratch
folder, ``--members`` members, every one voting in turn; prints the median time of the first and of the last
hundred votes, and the time of the close (count, publish, scrub).

    python benchmarks/ballots.py [--members 5000] [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tutti.coop.bootstrap import found_cooperative
from tutti.coop.db import make_engine, session_factory, upgrade
from tutti.coop.governance import ballots, closing, proposals
from tutti.coop.models import Member, Proposal, Role, Status, new_id, new_pseudonym
from tutti.coop.settings import CoopSettings

OPENED = datetime(2026, 3, 2, 9, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tutti-ballots-") as scratch:
        folder = Path(scratch)
        url = args.database_url or f"sqlite:///{folder / 'coop.sqlite'}"
        settings = CoopSettings.for_tests(folder / "coop", url)
        engine = make_engine(url)
        upgrade(engine)
        sessions = session_factory(engine, settings)
        with sessions.begin() as session:
            founder = found_cooperative(
                session, settings, name="Bench", steward_email="s@example.org", steward_password="bench passphrase ok"
            )
            ids = [new_id() for _ in range(args.members)]
            session.add_all(
                Member(id=i, role=Role.MEMBER, status=Status.ACTIVE, pseudonym=new_pseudonym(), created_utc=OPENED)
                for i in ids
            )
            session.flush()
            draft = proposals.draft_policy(session, founder, "Bench", {"voting_days": 3})
            proposals.open_vote(session, founder, draft.id, now=OPENED)
            proposal_id = draft.id
        took = []
        for member_id in ids:
            started = time.perf_counter()
            with sessions.begin() as session:
                who, proposal = session.get_one(Member, member_id), session.get_one(Proposal, proposal_id)
                ballots.cast(session, who, proposal, "yes", now=OPENED + timedelta(hours=1))
            took.append(time.perf_counter() - started)
        started = time.perf_counter()
        with sessions.begin() as session:
            closing.close(session, proposal_id, now=OPENED + timedelta(days=8))
        ballots.scrub(engine)
        closed = time.perf_counter() - started
        engine.dispose()
    print(f"{args.members:,} members on {url.split(':', 1)[0]}")
    print(f"  a vote, first 100: median {statistics.median(took[:100]) * 1000:.1f} ms")
    print(f"  a vote, last 100:  median {statistics.median(took[-100:]) * 1000:.1f} ms")
    print(f"  the close (count, publish, scrub): {closed * 1000:.0f} ms")


if __name__ == "__main__":
    main()
