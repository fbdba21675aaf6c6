"""Governance on both databases: buyers and roles, proposals from draft to execution, secret ballots with receipts,
consent and opt-outs, and the one path by which a decision takes effect."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import ROOT
from tests.coop.conftest import CoopDb, events
from tests.helpers.governance import (
    AFTER,
    DURING,
    OPENED,
    buyer,
    close,
    member,
    open_sale,
    pass_policy,
    sale_terms,
    steward,
)
from tutti.coop import mail
from tutti.coop.errors import Conflict, InvalidInput, NotAllowed, NotFound
from tutti.coop.governance import ballots, buyers, closing, consent, execution, policy, proposals, records, terms
from tutti.coop.governance.jobs import CLOSE_VOTE, SEND_VOTE_NOTICES
from tutti.coop.jobs.worker import Worker
from tutti.coop.members import accounts, waitlist, withdrawal
from tutti.coop.models import (
    BuyerApplication,
    Consent,
    Contribution,
    ContributionStatus,
    Elector,
    Member,
    Proposal,
    Role,
    SaleOptOut,
    Status,
)


def test_stewards_approve_or_refuse_buyers_and_both_are_logged(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        lab = member(session, "data@lab.example")
        other = member(session, "other@corp.example")
        first = buyers.apply(session, lab, "Listening Lab", "researcher", "Study listening over the years.")
        second = buyers.apply(session, other, "Corp", "ai-developer", "Train models.")
        with pytest.raises(Conflict, match="waiting already"):
            buyers.apply(session, lab, "Listening Lab", "researcher", "Again.")
        with pytest.raises(NotAllowed):
            buyers.decide(session, lab, first.id, True)
        buyers.decide(session, steward(session), first.id, True)
        buyers.decide(session, steward(session), second.id, False)
        with pytest.raises(Conflict, match="approved already"):
            buyers.decide(session, steward(session), first.id, False)
        assert (lab.role, other.role) == (Role.BUYER, Role.MEMBER)
        decided = [e.payload for e in events(session, "buyer-decided")]
        assert [('"approved":true' in p, first.id in p) for p in decided] == [(True, True), (False, False)]
        assert len(events(session, "buyer-applied")) == 2
        assert events(session, "role-changed")[-1].member_id == lab.id
        assert [a.status for a in session.scalars(select(BuyerApplication).order_by(BuyerApplication.created_utc))]


def test_a_waitlisted_organisation_becomes_an_active_buyer_without_taking_a_members_place(founded_db: CoopDb) -> None:
    pass_policy(founded_db.sessions, {"capacity_per_day": 0}, in_force=OPENED - timedelta(days=2))
    with founded_db.sessions.begin() as session:
        lab = member(session, "data@lab.example")
        assert lab.status is Status.WAITLISTED
        application = buyers.apply(session, lab, "Listening Lab", "researcher", "Study listening.")
        buyers.decide(session, steward(session), application.id, True)
        assert (lab.status, lab.role, lab.activated_utc) == (Status.ACTIVE, Role.BUYER, None)
        assert waitlist.waiting(session) == 0


def test_a_buyer_sees_only_their_own_proposals_and_members_see_no_drafts(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        lab, corp, ada = buyer(session), buyer(session, "corp@corp.example"), member(session, "ada@example.org")
        mine = proposals.draft_sale(session, lab, "Mine", sale_terms())
        theirs = proposals.draft_sale(session, corp, "Theirs", sale_terms(price_minor=1))
        assert [p.id for p in proposals.visible(session, lab)] == [mine.id]
        with pytest.raises(NotFound):
            proposals.get_visible(session, lab, theirs.id)
        assert proposals.visible(session, ada) == []
        assert {p.id for p in proposals.visible(session, steward(session))} == {mine.id, theirs.id}
        proposals.open_vote(session, steward(session), mine.id, now=OPENED)
        assert [p.id for p in proposals.visible(session, ada)] == [mine.id]
        assert [p.id for p in proposals.visible(session, corp)] == [theirs.id]
        with pytest.raises(NotAllowed):
            proposals.draft_sale(session, ada, "Members do not sell to themselves", sale_terms())
        with pytest.raises(NotAllowed):
            proposals.draft_policy(session, lab, "Buyers set no policy", {"fee_basis_points": 0})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"currency": "XXX"}, "currency"),
        ({"price_minor": -1}, "price_minor"),
        ({"price_minor": 1.5}, "price_minor"),
        ({"purpose": " "}, "purpose"),
        ({"no_resale": False}, "no_resale"),
        ({"delivery": "email"}, "delivery"),
        ({"recipe": {"name": "Not A Name"}}, "recipe.name"),
        ({"recipe": {"name": "artist-preferences", "parameters": {"epsilon": True}}}, "epsilon"),
    ],
)
def test_malformed_sale_terms_are_refused_naming_the_field(
    founded_db: CoopDb, change: dict[str, object], message: str
) -> None:
    with founded_db.sessions.begin() as session, pytest.raises(InvalidInput, match=message):
        proposals.draft_sale(session, buyer(session), "Bad", sale_terms(**change))


def test_the_electorate_and_the_rules_are_frozen_when_the_vote_opens(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        ada_id = member(session, "ada@example.org").id
    sale = open_sale(founded_db.sessions)
    with founded_db.sessions.begin() as session:
        late = member(session, "late@example.org", now=DURING)
        proposal = session.get_one(Proposal, sale)
        assert proposal.electorate_size == 2  # the steward and Ada; not the buyer, not the latecomer
        assert proposal.rules == {"quorum_percent": 20, "threshold": "simple", "weighting": "equal"}
        with pytest.raises(NotAllowed, match="active when the vote opened"):
            ballots.cast(session, late, proposal, "yes", now=DURING)
        with pytest.raises(Conflict, match="secret until the vote closes"):
            ballots.published(session, proposal)
        with pytest.raises(Conflict, match="only a draft"):
            proposals.open_vote(session, steward(session), sale, now=DURING)
        assert proposal.tally is None
        ballots.cast(session, session.get_one(Member, ada_id), proposal, "yes", now=DURING)
        assert proposal.tally is None  # nothing counted while the vote is open


def test_ballots_double_votes_receipts_and_closed_votes(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        ada_id, bo_id = member(session, "ada@example.org").id, member(session, "bo@example.org").id
    sale = open_sale(founded_db.sessions)
    with founded_db.sessions.begin() as session:
        proposal = session.get_one(Proposal, sale)
        ada, bo = session.get_one(Member, ada_id), session.get_one(Member, bo_id)
        receipt = ballots.cast(session, ada, proposal, "no", now=DURING)
        with pytest.raises(Conflict, match="voted on this proposal already"):
            ballots.cast(session, ada, proposal, "yes", now=DURING)
        with pytest.raises(NotAllowed, match="not this ballot's secret"):
            ballots.change(session, ada, proposal, receipt.tracking_code, "guess", "yes", now=DURING)
        with pytest.raises(NotFound):
            ballots.change(session, ada, proposal, "AAAA-AAAA-AAAA-AAAA", receipt.secret, "yes", now=DURING)
        ballots.change(session, ada, proposal, receipt.tracking_code, receipt.secret, "yes", now=DURING)
        ballots.change(session, ada, proposal, receipt.tracking_code.lower(), receipt.secret, "yes", now=DURING)
        ballots.cast(session, bo, proposal, "no", now=DURING)
        with pytest.raises(InvalidInput):
            ballots.cast(session, steward(session), proposal, "maybe", now=DURING)
        with pytest.raises(Conflict, match="closed"):
            ballots.cast(session, steward(session), proposal, "yes", now=AFTER)
    closed = close(founded_db.sessions, sale)
    assert closed.tally == {"yes": 1, "no": 1, "abstain": 0, "ballots": 2}
    assert closed.outcome == "failed" and closed.status == "closed"  # a tie fails
    with founded_db.sessions.begin() as session:
        proposal = session.get_one(Proposal, sale)
        published = ballots.published(session, proposal)
        assert [b.tracking_code for b in published] == sorted(b.tracking_code for b in published)
        assert (receipt.tracking_code, "yes") in [(b.tracking_code, b.choice) for b in published]
        with pytest.raises(Conflict, match="not open"):
            ballots.change(session, session.get_one(Member, ada_id), proposal, receipt.tracking_code,
                           receipt.secret, "no", now=AFTER)  # fmt: skip
        closed_event = events(session, "proposal-closed")[-1].payload
        assert ballots.digest(published) in closed_event and "tracking" not in closed_event
        assert events(session, "proposal-executed") == []
        with pytest.raises(NotAllowed, match="only a passed proposal"):
            execution.execute(session, proposal)


def test_withdrawn_members_cannot_vote_and_their_cast_ballot_still_counts(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        ada_id, bo_id = member(session, "ada@example.org").id, member(session, "bo@example.org").id
    sale = open_sale(founded_db.sessions)
    with founded_db.sessions.begin() as session:
        ada = session.get_one(Member, ada_id)
        ballots.cast(session, ada, session.get_one(Proposal, sale), "yes", now=DURING)
        consent.set_preferences(session, ada, never_sell=False, aggregates_only=True, excluded_purposes=["advertising"])
        consent.opt_out(session, ada, session.get_one(Proposal, sale), now=DURING)
    for member_id in (ada_id, bo_id):
        with founded_db.sessions() as session:
            withdrawal.withdraw(session, founded_db.settings, session.get_one(Member, member_id), now=DURING)
    with founded_db.sessions.begin() as session, pytest.raises(NotAllowed):
        ballots.cast(session, session.get_one(Member, bo_id), session.get_one(Proposal, sale), "no", now=DURING)
    with founded_db.sessions() as session:  # what they chose about sales went with them
        assert session.get(Consent, ada_id) is None and session.scalars(select(SaleOptOut)).all() == []
    closed = close(founded_db.sessions, sale)
    # A ballot cannot be found to remove it (that is the point): Ada's counts; neither is in the sale.
    assert closed.tally == {"yes": 1, "no": 0, "abstain": 0, "ballots": 1} and closed.outcome == "passed"
    with founded_db.sessions() as session:
        assert consent.included(session, closed) == [steward(session).id]


def test_consent_and_opt_outs_decide_who_a_passed_sale_includes(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        ids = {name: member(session, f"{name}@example.org").id for name in ("ada", "bo", "cy", "di", "ed")}
        get = {name: session.get_one(Member, i) for name, i in ids.items()}
        consent.set_preferences(session, get["bo"], never_sell=True, aggregates_only=False, excluded_purposes=[])
        consent.set_preferences(session, get["cy"], never_sell=False, aggregates_only=True, excluded_purposes=[])
        consent.set_preferences(session, get["di"], never_sell=False, aggregates_only=False,
                                excluded_purposes=["ai-training"])  # fmt: skip
        with pytest.raises(InvalidInput, match="unknown purpose"):
            consent.set_preferences(session, get["di"], never_sell=False, aggregates_only=False,
                                    excluded_purposes=["everything"])  # fmt: skip
    sale = open_sale(founded_db.sessions)
    with founded_db.sessions.begin() as session:
        proposal = session.get_one(Proposal, sale)
        ed = session.get_one(Member, ids["ed"])
        ballots.cast(session, ed, proposal, "yes", now=DURING)
        consent.opt_out(session, ed, proposal, now=DURING)  # opted out after voting: the ballot counts
        ada = session.get_one(Member, ids["ada"])
        consent.opt_out(session, ada, proposal, now=DURING)
        consent.opt_out(session, ada, proposal, out=False, now=DURING)  # and back in
        ballots.cast(session, ada, proposal, "yes", now=DURING)
    closed = close(founded_db.sessions, sale)
    assert closed.outcome == "passed" and closed.status == "executed"
    with founded_db.sessions() as session:
        assert set(consent.included(session, closed)) == {ids["ada"], steward(session).id}
        with pytest.raises(Conflict, match="fixed"):
            consent.opt_out(session, session.get_one(Member, ids["ada"]), closed, now=AFTER)
        assert '"included":2' in events(session, "proposal-executed")[-1].payload
    with founded_db.sessions() as session:  # withdrawing after close takes a member out of the sale too
        withdrawal.withdraw(session, founded_db.settings, session.get_one(Member, ids["ada"]), now=AFTER)
    with founded_db.sessions() as session:
        assert consent.included(session, session.get_one(Proposal, sale)) == [steward(session).id]


def test_a_passed_policy_change_applies_itself_and_nothing_else_changes_the_policy(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        ada = member(session, "ada@example.org")
        change = {"fee_basis_points": 500, "capacity_per_day": 3, "quorum_percent": 50, "threshold": "super"}
        draft = proposals.draft_policy(session, ada, "Lower the fee", change)
        proposals.open_vote(session, steward(session), draft.id, now=OPENED)
        ballots.cast(session, ada, draft, "yes", now=DURING)
        ballots.cast(session, steward(session), draft, "yes", now=DURING)
        assert policy.current(session) == policy.DEFAULT
        with pytest.raises(Conflict, match="open until"):
            closing.close(session, draft.id, now=DURING)
        with pytest.raises(NotAllowed):
            execution.execute(session, draft)
        proposal_id = draft.id
    closed = close(founded_db.sessions, proposal_id)
    assert (closed.outcome, closed.status) == ("passed", "executed")
    with founded_db.sessions() as session:
        now_in_force = policy.current(session)
        assert (now_in_force.fee_basis_points, now_in_force.quorum_percent, now_in_force.threshold) == (
            500,
            50,
            "super",
        )
        assert waitlist.capacity(session) == 3  # the waitlist reads the capacity the members voted
        assert [e.kind for e in events(session, "proposal-executed")] == ["proposal-executed"]
    assert close(founded_db.sessions, proposal_id).status == "executed"  # closing again changes nothing


def test_a_sale_whose_buyer_left_expires_instead_of_executing(founded_db: CoopDb) -> None:
    sale = open_sale(founded_db.sessions)
    with founded_db.sessions.begin() as session:
        ballots.cast(session, steward(session), session.get_one(Proposal, sale), "yes", now=DURING)
        lab = session.get_one(Member, session.get_one(Proposal, sale).terms["buyer_id"])
        accounts.set_role(session, steward(session), lab, Role.MEMBER)
    closed = close(founded_db.sessions, sale)
    assert (closed.outcome, closed.status) == ("passed", "expired")
    with founded_db.sessions() as session:
        assert '"reason":"buyer-gone"' in events(session, "proposal-expired")[-1].payload


def test_the_close_job_closes_the_vote_when_its_window_ends_and_emails_the_result(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        ada_id = member(session, "ada@example.org").id
        consent.set_emails(session, session.get_one(Member, ada_id), ["opened"])
    sale = open_sale(founded_db.sessions)
    worker = Worker(founded_db.sessions, founded_db.settings, [CLOSE_VOTE, SEND_VOTE_NOTICES], poll=0.01)
    assert worker.run_one(now=DURING) is not None  # the "vote opened" emails
    assert [p.name.split("-")[1] for p in _outbox(founded_db)].count(ada_id.split("-")[0]) == 1
    with founded_db.sessions.begin() as session:
        ballots.cast(session, steward(session), session.get_one(Proposal, sale), "yes", now=DURING)
    assert worker.run_one(now=DURING + timedelta(hours=1)) is None  # nothing due before the window ends
    while worker.run_one(now=AFTER) is not None:
        pass
    assert worker.drain() == 1  # the result's emails, queued when the job closed the vote (now, by the clock)
    with founded_db.sessions() as session:
        closed = session.get_one(Proposal, sale)
        assert (closed.status, closed.outcome) == ("executed", "passed")
        stewards = mail.kept_about(founded_db.settings, steward(session).id)
    # The steward: opened and result (no reminder: they had voted); Ada chose the "opened" email only.
    assert len(stewards) == 2 and len(mail.kept_about(founded_db.settings, ada_id)) == 1
    assert "Vote result" in stewards[-1].read_text() or "Vote result" in stewards[0].read_text()


def _outbox(db: CoopDb) -> list[Path]:
    folder = db.settings.data_dir / mail.OUTBOX
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _callers(pattern: str) -> set[str]:
    source = ROOT / "src" / "tutti"
    return {
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if re.search(pattern, path.read_text(encoding="utf-8"))
    }


def test_one_path_executes_a_proposal_and_changes_the_policy() -> None:
    # The routes and commands are exercised by role in tests/web/test_governance_api.py; this pins the code paths.
    assert _callers(r"execution\.execute\(|\bexecute\(session, proposal") == {"coop/governance/closing.py"}
    assert _callers(r"policy\.apply\(") == {"coop/governance/execution.py"}
    assert _callers(r"GovernancePolicy\(\w+=") == {"coop/governance/policy.py"}
    assert _callers(r"(?<![=!<>])= (proposals\.)?EXECUTED\b") == {"coop/governance/execution.py"}
    # A release is built only by its job, which only an executed sale queues.
    assert _callers(r"queue_release\(session, ") == {"coop/governance/execution.py"}
    assert _callers(r"BUILD_JOB,") == {"coop/sales/releases.py"}
    assert _callers(r"(?<!def )\bbuild_release\(") == {"coop/sales/releases.py"}


def test_banded_weights_come_from_contribution_points_and_are_frozen_at_open(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        ada, bo = member(session, "ada@example.org"), member(session, "bo@example.org")
        for who, score in ((ada, 12_000), (bo, 1_500)):
            session.add(
                Contribution(member_id=who.id, status=ContributionStatus.ACCEPTED, score=score, created_utc=OPENED)
            )
        draft = proposals.draft_policy(session, ada, "Weight by contribution", {"weighting": "banded"})
        proposals.open_vote(session, steward(session), draft.id, now=OPENED)
        for who in (ada, bo, steward(session)):
            ballots.cast(session, who, draft, "yes", now=DURING)
        ids = (ada.id, bo.id, draft.id)
    close(founded_db.sessions, ids[2])
    with founded_db.sessions.begin() as session:
        sale = proposals.draft_sale(session, buyer(session), "Sale", sale_terms())
        proposals.open_vote(session, steward(session), sale.id, now=AFTER)
        weights = {
            e.member_id: e.weight for e in session.scalars(select(Elector).where(Elector.proposal_id == sale.id))
        }
        assert (weights[ids[0]], weights[ids[1]], weights[steward(session).id]) == (3, 2, 1)
        assert sale.rules == {"quorum_percent": 20, "threshold": "simple", "weighting": "banded"}
        ballots.cast(session, session.get_one(Member, ids[0]), sale, "no", now=AFTER + timedelta(hours=1))
        ballots.cast(session, session.get_one(Member, ids[1]), sale, "yes", now=AFTER + timedelta(hours=1))
        sale_id = sale.id
    with founded_db.sessions.begin() as session:
        closes = session.get_one(Proposal, sale_id).closes_utc
        assert closes is not None
        closed = closing.close(session, sale_id, now=closes)
        assert closed.tally == {"yes": 2, "no": 3, "abstain": 0, "ballots": 2} and closed.outcome == "failed"


def test_members_who_have_not_voted_are_reminded_a_day_before_the_close(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        bo_id = member(session, "bo@example.org").id
    sale = open_sale(founded_db.sessions)
    with founded_db.sessions.begin() as session:
        ballots.cast(session, steward(session), session.get_one(Proposal, sale), "yes", now=DURING)
        steward_id = steward(session).id
    worker = Worker(founded_db.sessions, founded_db.settings, [SEND_VOTE_NOTICES], poll=0.01)
    with founded_db.sessions() as session:
        closes = session.get_one(Proposal, sale).closes_utc
    assert closes is not None
    while worker.run_one(now=closes - timedelta(hours=23)) is not None:
        pass
    reminded = [p for p in mail.kept_about(founded_db.settings, bo_id) if "A day left" in p.read_text()]
    assert len(reminded) == 1 and "/proposals/" + sale in reminded[0].read_text()
    assert not [p for p in mail.kept_about(founded_db.settings, steward_id) if "A day left" in p.read_text()]


def test_a_vote_waiting_for_the_box_while_the_vote_closes_is_refused(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        ada_id = member(session, "ada@example.org").id
    sale = open_sale(founded_db.sessions)
    with founded_db.sessions() as session:
        stale = session.get_one(Proposal, sale)  # read as open, before the close below
        who = session.get_one(Member, ada_id)
        assert stale.status == "open"
        close(founded_db.sessions, sale)
        with pytest.raises(Conflict, match="closed"):
            ballots.cast(session, who, stale, "yes", now=DURING)
    with founded_db.sessions() as session:
        assert ballots.published(session, session.get_one(Proposal, sale)) == []


def test_a_members_export_holds_their_governance_record_but_never_their_choice(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        ada_id = member(session, "ada@example.org").id
    sale = open_sale(founded_db.sessions)
    with founded_db.sessions.begin() as session:
        ada, proposal = session.get_one(Member, ada_id), session.get_one(Proposal, sale)
        receipt = ballots.cast(session, ada, proposal, "abstain", now=DURING)
        consent.opt_out(session, ada, proposal, now=DURING)
        held = records.about(session, ada)
    assert held["opted_out_of"] == [sale] and held["votes"] == [
        {"proposal_id": sale, "title": "Artist preferences", "voted": True}
    ]
    assert receipt.tracking_code not in str(held) and "abstain" not in str(held)


def test_two_closes_at_once_close_the_vote_once(founded_db: CoopDb) -> None:
    sale = open_sale(founded_db.sessions)
    with founded_db.sessions.begin() as session:
        ballots.cast(session, steward(session), session.get_one(Proposal, sale), "yes", now=DURING)
    with founded_db.sessions() as session:
        stale = session.get_one(Proposal, sale)  # this close read the vote as open, then the other one ran
        assert stale.status == "open"
        close(founded_db.sessions, sale)
        assert closing.close(session, sale, now=AFTER).status == "executed"
        session.commit()
    with founded_db.sessions() as session:
        assert len(events(session, "proposal-closed")) == 1 and len(events(session, "proposal-executed")) == 1
        assert len(ballots.published(session, session.get_one(Proposal, sale))) == 1


@given(minor=st.integers(0, 10**12), currency=st.sampled_from(sorted(terms.CURRENCIES)))
def test_a_price_reads_back_as_the_minor_units_it_shows(minor: int, currency: str) -> None:
    shown = terms.price_text(minor, currency)
    assert terms.parse_price(shown.removesuffix(f" {currency}"), currency) == minor


@pytest.mark.parametrize(
    ("text", "currency"), [("1.234", "EUR"), ("10.5", "JPY"), ("-5", "EUR"), ("1e3", "EUR"), ("", "EUR")]
)
def test_a_price_with_more_decimals_than_its_currency_or_no_number_is_refused(text: str, currency: str) -> None:
    with pytest.raises(InvalidInput, match="the price must be a number"):
        terms.parse_price(text, currency)
