"""Attacks on the secret ballot: try to link voters to ballots from everything the database holds after a vote,
and try to lose or double-count ballots when many members vote (and change their votes) at once.

The dump is every row of every table in physical order (``rowid`` on SQLite; ``ctid`` with ``xmin`` on
PostgreSQL), the SQLite file with its WAL byte for byte, and PostgreSQL's pages as ``pageinspect`` reads them,
dead tuples included.
"""

from __future__ import annotations

import random
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.coop.conftest import STEWARD_EMAIL, STEWARD_PASSWORD, CoopDb
from tests.helpers.governance import DURING, OPENED, close, member, open_sale, steward
from tests.helpers.races import postgresql_only
from tutti.coop.bootstrap import found_cooperative
from tutti.coop.db import make_engine, session_factory, upgrade
from tutti.coop.errors import Conflict, NotAllowed
from tutti.coop.governance import ballots, consent, rules
from tutti.coop.governance.ballots import Receipt
from tutti.coop.governance.rules import CHOICES, Ballot, Rules, Tally
from tutti.coop.models import Base, Member, Proposal, Role, Status, new_id, new_pseudonym
from tutti.coop.settings import CoopSettings

VOTERS = 12
# A tracking code standing on its own: a run of four digits in a UUID ("…7342-3692-4089-8857-…") is not one.
_CODE = re.compile(r"(?<![0-9A-Za-z-])[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}(?![0-9A-Za-z-])")


def _dump(db: CoopDb) -> list[tuple[str, str, str]]:
    """(table, transaction id or "", the row as text) for every row of every table, in physical order."""
    rows = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if db.kind == "sqlite":
                query = f"SELECT '' AS x, * FROM \"{table.name}\" ORDER BY rowid"
            else:
                query = f'SELECT xmin::text AS x, * FROM "{table.name}" ORDER BY ctid'
            for row in connection.execute(text(query)):
                rows.append((table.name, str(row[0]), " ".join(str(v) for v in row[1:])))
    return rows


def _vote(db: CoopDb, sale: str, names: list[str]) -> dict[str, Receipt]:
    """Each member votes in the order given; every third then changes their vote with the receipt."""
    receipts = {}
    for n, member_id in enumerate(names):
        with db.sessions.begin() as session:
            proposal = session.get_one(Proposal, sale)
            who = session.get_one(Member, member_id)
            receipts[member_id] = ballots.cast(session, who, proposal, ("yes", "no", "abstain")[n % 3], now=DURING)
    for member_id in names[::3]:
        with db.sessions.begin() as session:
            first = receipts[member_id]
            receipts[member_id] = ballots.change(
                session,
                session.get_one(Member, member_id),
                session.get_one(Proposal, sale),
                first.tracking_code,
                first.secret,
                "no",
                now=DURING,
            )
    return receipts


def _assert_unlinkable(dump: list[tuple[str, str, str]], receipts: dict[str, Receipt]) -> None:
    codes = {r.tracking_code for r in receipts.values()}
    holding = [(table, row) for table, _x, row in dump if any(code in row for code in codes)]
    # Every ballot is in one and the same row, which names no member, in the order of the random codes.
    assert len(holding) == 1 and holding[0][0] == "ballot_box"
    row = holding[0][1]
    assert all(member_id not in row for member_id in receipts)
    found = _CODE.findall(row)
    assert found == sorted(found) and set(found) == codes
    # No receipt secret anywhere; the audit log names no ballot.
    assert not any(r.secret in row for r in receipts.values() for _t, _x, row in dump)
    assert not [row for table, _x, row in dump if table == "audit_event" and _CODE.search(row)]
    # Who voted is a sorted list too: it says nothing of the order of voting.
    roll = next(row for table, _x, row in dump if table == "voter_roll")
    listed = [m for m in re.findall(r"[0-9a-f-]{36}", roll) if m in receipts]
    assert listed == sorted(listed)


def test_nobody_holding_the_whole_database_can_link_a_voter_to_a_ballot(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        names = [member(session, f"voter{n}@example.org").id for n in range(VOTERS)]
    sale = open_sale(founded_db.sessions)
    random.Random(7).shuffle(names)  # an order of voting unlike the order of joining or of ids
    receipts = _vote(founded_db, sale, names)
    _assert_unlinkable(_dump(founded_db), {**receipts})  # while the vote is open, the rows alone say nothing
    close(founded_db.sessions, sale)
    horizon = _oldest_open_transaction(founded_db) if founded_db.kind == "postgresql" else None
    assert ballots.scrub(founded_db.engine)
    dump = _dump(founded_db)
    _assert_unlinkable(dump, receipts)
    published = next(row for table, _x, row in dump if table == "ballot_box")
    assert not re.search(r"[0-9a-f]{64}", published)  # the secrets' hashes went at close
    if founded_db.kind == "sqlite":
        _assert_no_old_versions_in_sqlite_files(founded_db, receipts)
    else:
        _assert_no_dead_tuples_in_postgresql(founded_db, horizon)


def _assert_no_old_versions_in_sqlite_files(db: CoopDb, receipts: dict[str, Receipt]) -> None:
    database = Path(str(db.engine.url.database))
    raw = database.read_bytes() + (Path(f"{database}-wal").read_bytes() if Path(f"{database}-wal").exists() else b"")
    for receipt in receipts.values():
        # Once, in the published box: no earlier box (which would show the order ballots came in) survives.
        assert raw.count(receipt.tracking_code.encode()) == 1
        assert receipt.secret.encode() not in raw


def _oldest_open_transaction(db: CoopDb) -> int | None:
    """The oldest transaction id any other session on the server holds open (another test run's, a backup's)."""
    query = (
        "SELECT min(x::text::bigint) FROM (SELECT backend_xid AS x FROM pg_stat_activity WHERE pid <> "
        "pg_backend_pid() UNION ALL SELECT backend_xmin FROM pg_stat_activity WHERE pid <> pg_backend_pid()) AS o"
    )
    with db.engine.connect() as connection:
        oldest = connection.execute(text(query)).scalar_one()
    return None if oldest is None else int(oldest)


def _assert_no_dead_tuples_in_postgresql(db: CoopDb, horizon: int | None) -> None:
    """Every old version of the box and the roll is gone from their pages (and their TOAST pages), but those that a
    transaction open elsewhere since before the scrub may still see: PostgreSQL keeps those, and the trust model
    says so. With no such transaction, nothing old remains."""
    with db.engine.connect() as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        for table in ballots.SCRUBBED_TABLES:
            toast = connection.execute(
                text("SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                {"t": table},
            ).scalar_one()
            for relation in (table, toast):
                pages = connection.execute(text(f"SELECT pg_relation_size('{relation}') / 8192")).scalar_one()
                pages_query = (
                    "SELECT t_xmax::text::bigint FROM heap_page_items(get_raw_page(:relation, CAST(:page AS int))) "
                    "WHERE t_data IS NOT NULL AND t_xmax <> '0'"
                )
                ended = [
                    int(xmax)
                    for page in range(pages)
                    for xmax in connection.execute(text(pages_query), {"relation": relation, "page": page}).scalars()
                ]
                kept = [xmax for xmax in ended if horizon is None or xmax < horizon]
                assert kept == [], f"{relation} keeps {len(kept)} old versions nobody can still see"
        connection.rollback()


def test_many_members_voting_and_changing_at_once_lose_nothing_and_count_once(founded_db: CoopDb) -> None:
    postgresql_only(founded_db)
    voters = 500
    with founded_db.sessions.begin() as session:
        ids = [new_id() for _ in range(voters)]
        session.add_all(
            Member(id=i, role=Role.MEMBER, status=Status.ACTIVE, pseudonym=new_pseudonym(), created_utc=OPENED)
            for i in ids
        )
    sale = open_sale(founded_db.sessions)
    chosen = {i: random.Random(i).choice(["yes", "no", "abstain"]) for i in ids}

    def vote(member_id: str) -> Receipt:
        with founded_db.sessions.begin() as session:
            who, proposal = session.get_one(Member, member_id), session.get_one(Proposal, sale)
            return ballots.cast(session, who, proposal, chosen[member_id], now=DURING)

    def change(receipt_of: tuple[str, Receipt]) -> None:
        member_id, receipt = receipt_of
        chosen[member_id] = "yes" if chosen[member_id] != "yes" else "no"
        with founded_db.sessions.begin() as session:
            who, proposal = session.get_one(Member, member_id), session.get_one(Proposal, sale)
            ballots.change(session, who, proposal, receipt.tracking_code, receipt.secret, chosen[member_id],
                           now=DURING)  # fmt: skip

    with ThreadPoolExecutor(max_workers=24) as pool:
        receipts = dict(zip(ids, pool.map(vote, ids), strict=True))
        list(pool.map(change, list(receipts.items())[::5]))
    closed = close(founded_db.sessions, sale)
    with founded_db.sessions() as session:
        published = ballots.published(session, closed)
    totals = [sum(1 for c in chosen.values() if c == k) for k in ("yes", "no", "abstain")]
    expected = Tally(totals[0], totals[1], totals[2], voters)
    assert len(published) == voters and len({b.tracking_code for b in published}) == voters
    assert rules.count(published) == expected and closed.tally == expected.to_json()
    assert {(r.tracking_code, chosen[m]) for m, r in receipts.items()} == {
        (b.tracking_code, b.choice) for b in published
    }


@given(
    yes=st.integers(0, 60), no=st.integers(0, 60), abstain=st.integers(0, 60), extra=st.integers(0, 60),
    quorum=st.integers(1, 100), threshold=st.sampled_from(["simple", "super"]),
)  # fmt: skip
def test_the_outcome_follows_the_rules_at_every_edge(
    yes: int, no: int, abstain: int, extra: int, quorum: int, threshold: str
) -> None:
    cast = yes + no + abstain
    electorate = cast + extra
    tally = rules.count([Ballot(f"{n}", c) for n, c in enumerate(["yes"] * yes + ["no"] * no + ["abstain"] * abstain)])
    assert tally == Tally(yes, no, abstain, cast)
    decided = rules.outcome(tally, electorate, Rules(quorum, threshold, "equal"))
    if electorate == 0 or cast * 100 < quorum * electorate:
        assert decided == rules.NO_QUORUM
    elif threshold == "simple":
        assert decided == (rules.PASSED if yes > no else rules.FAILED)  # a tie fails
    else:
        assert decided == (rules.PASSED if yes > 0 and 3 * yes >= 2 * (yes + no) else rules.FAILED)


def test_exactly_at_quorum_counts_and_one_short_does_not() -> None:
    at = Rules(25, "simple", "equal")
    assert rules.outcome(Tally(1, 0, 0, 1), 4, at) == rules.PASSED
    assert rules.outcome(Tally(1, 0, 0, 1), 5, at) == rules.NO_QUORUM
    assert rules.outcome(Tally(0, 0, 1, 1), 4, at) == rules.FAILED  # abstaining counts towards the quorum only
    assert rules.outcome(Tally(2, 1, 0, 3), 3, Rules(100, "super", "equal")) == rules.PASSED  # exactly two thirds


def test_an_opt_out_after_voting_keeps_the_ballot_and_leaves_the_sale(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        ada = member(session, "ada@example.org").id
    sale = open_sale(founded_db.sessions)
    with founded_db.sessions.begin() as session:
        proposal, who = session.get_one(Proposal, sale), session.get_one(Member, ada)
        ballots.cast(session, who, proposal, "yes", now=DURING)
        consent.opt_out(session, who, proposal, now=DURING + timedelta(minutes=5))
    closed = close(founded_db.sessions, sale)
    assert closed.tally == {"yes": 1, "no": 0, "abstain": 0, "ballots": 1}
    with founded_db.sessions() as session:
        assert consent.included(session, closed) == [steward(session).id]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(["cast", "change", "forge"]), st.sampled_from(list(CHOICES))),
        max_size=25,
    )
)
def test_any_sequence_of_votes_and_changes_counts_each_voter_once_with_their_last_choice(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[int, str, str]]
) -> None:
    db = _fresh_sqlite(tmp_path_factory.mktemp("votes"))
    with db.sessions.begin() as session:
        voters = [member(session, f"v{n}@example.org").id for n in range(6)]
    sale = open_sale(db.sessions)
    receipts: dict[str, Receipt] = {}
    last: dict[str, str] = {}
    for who, action, choice in steps:
        voter = voters[who]
        with db.sessions() as session:
            proposal, person = session.get_one(Proposal, sale), session.get_one(Member, voter)
            try:
                if action == "cast":
                    receipts[voter] = ballots.cast(session, person, proposal, choice, now=DURING)
                    last[voter] = choice
                elif voter in receipts:
                    secret = receipts[voter].secret if action == "change" else "forged"
                    ballots.change(session, person, proposal, receipts[voter].tracking_code, secret, choice, now=DURING)
                    last[voter] = choice
                session.commit()
            except (Conflict, NotAllowed):
                session.rollback()
                assert (action == "cast" and voter in receipts) or action == "forge"
    closed = close(db.sessions, sale)
    with db.sessions() as session:
        published = ballots.published(session, closed)
    assert sorted((b.tracking_code, b.choice) for b in published) == sorted(
        (receipts[v].tracking_code, c) for v, c in last.items()
    )
    assert closed.tally == rules.count(published).to_json()
    db.engine.dispose()


def _fresh_sqlite(folder: Path) -> CoopDb:
    coop = CoopSettings.for_tests(folder / "coop", f"sqlite:///{folder / 'coop.sqlite'}")
    engine = make_engine(coop.database_url)
    upgrade(engine)
    sessions = session_factory(engine, coop)
    with sessions.begin() as session:
        found_cooperative(session, coop, name="T", steward_email=STEWARD_EMAIL, steward_password=STEWARD_PASSWORD)
    return CoopDb("sqlite", engine, sessions, coop)
