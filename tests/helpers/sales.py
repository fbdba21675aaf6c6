"""Shared steps of the sales tests: members with real exports pooled, a sale passed by their votes, its release
built by the job (the tests using these are marked ``samples``)."""

from __future__ import annotations

from typing import Any

from tests.conftest import samples_path
from tests.coop.conftest import CoopDb, give, steward_of
from tests.helpers.governance import AFTER, DURING, OPENED, buyer, member, sale_terms
from tutti.coop.governance import ballots, closing, proposals
from tutti.coop.jobs.worker import Worker
from tutti.coop.models import Member
from tutti.coop.sales.releases import BUILD_RELEASE

# Real listeners whose most played artists overlap pairwise, so a k floor of 2 keeps each of them in a release.
LISTENERS = [
    ("spotify-extended", "candidlyred"),
    ("spotify-extended", "mica-92"),
    ("spotify-account", "romainleclair", "MyData"),
    ("spotify-extended", "efrrowini"),
    ("lastfm", "mbartoli", "exported_tracks.txt"),
]
PREFERENCES = {"name": "artist-preferences", "version": 1, "parameters": {"top": 100, "k": 2}}
STATISTICS = {
    "name": "aggregate-statistics",
    "version": 1,
    "parameters": {"epsilon": 1.0, "delta": 1e-6, "k": 2, "max_cells": 20, "max_per_cell": 5},
}


def sale(recipe: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A sale's terms with ``recipe``, for 30 days unless ``changes`` say otherwise."""
    return sale_terms(**({"recipe": recipe, "duration_days": 30} | changes))


def members_with_histories(db: CoopDb, count: int) -> list[str]:
    """The first ``count`` of ``LISTENERS`` as members, each with their real export pooled."""
    ids = []
    for n, parts in enumerate(LISTENERS[:count]):
        with db.sessions.begin() as session:
            ids.append(member(session, f"listener{n}@example.org").id)
        found = samples_path(*parts)
        report = give(db, ids[-1], [found])
        assert report.accepted, (parts, report.reasons)
    return ids


def passed_sale(db: CoopDb, terms: dict[str, Any], voters: list[str]) -> tuple[str, str]:
    """A buyer's sale, opened, voted yes by ``voters`` and closed: (proposal id, buyer id)."""
    with db.sessions.begin() as session:
        account = buyer(session)
        draft = proposals.draft_sale(session, account, "Listening preferences", terms)
        proposals.open_vote(session, steward_of(session), draft.id, now=OPENED)
        proposal_id, buyer_id = draft.id, account.id
    for voter in voters:
        with db.sessions.begin() as session:
            proposal = proposals.get(session, proposal_id)
            ballots.cast(session, session.get_one(Member, voter), proposal, "yes", now=DURING)
    with db.sessions.begin() as session:
        closing.close(session, proposal_id, now=AFTER)
    return proposal_id, buyer_id


def build(db: CoopDb) -> int:
    """Run the queued release builds, as a worker would; how many ran."""
    return Worker(db.sessions, db.settings, [BUILD_RELEASE], poll=0.01).drain()
