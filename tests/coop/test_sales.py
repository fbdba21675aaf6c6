"""A passed sale, end to end on SQLite and PostgreSQL: its release is built by its job from the members it includes
(checked on the release files), delivered to its buyer only, and every use shows on members' pages; a sale with
query access answers until its privacy budget is spent.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tests.coop.conftest import CoopDb, steward_of
from tests.helpers.governance import AFTER, DURING, OPENED, buyer, member
from tests.helpers.sales import PREFERENCES, STATISTICS, build, members_with_histories, passed_sale, sale
from tutti.coop.errors import Conflict, InvalidInput, NotAllowed, NotFound
from tutti.coop.governance import ballots, closing, consent, proposals
from tutti.coop.jobs.worker import Worker
from tutti.coop.ledger import payments, receipts, split
from tutti.coop.members import withdrawal
from tutti.coop.models import DownloadLink, Member, PrivacySpend, Proposal, Release, ReleaseMember, Role, SalePreview
from tutti.coop.sales import compute, delivery, tracing, uses
from tutti.coop.sales.preview import PREVIEW_SALE, preview_in_words
from tutti.coop.sales.privacy import BudgetSpent, release_pseudonym
from tutti.coop.sales.releases import READY, release_key

pytestmark = pytest.mark.samples


def test_a_passed_sale_builds_its_release_from_the_included_members_only(founded_db: CoopDb, tmp_path: Path) -> None:
    db = founded_db
    ids = members_with_histories(db, 5)
    withdrawn, refusing = ids[3], ids[4]
    with db.sessions.begin() as session:
        consent.set_preferences(
            session,
            session.get_one(Member, refusing),
            never_sell=True,
            aggregates_only=False,
            excluded_purposes=[],
            now=OPENED,
        )
    proposal_id, _buyer = passed_sale(db, sale(PREFERENCES), ids)
    with db.sessions.begin() as session:
        assert session.get_one(Proposal, proposal_id).status == proposals.EXECUTED
        assert session.scalars(select(Release)).all() == []  # nothing is built outside the job
    with db.sessions() as session:  # withdrawn after the vote closed, before the release is built (it commits)
        withdrawal.withdraw(session, db.settings, session.get_one(Member, withdrawn), now=AFTER + timedelta(hours=1))
    assert build(db) == 1
    with db.sessions.begin() as session:
        release = session.scalars(select(Release).where(Release.proposal_id == proposal_id)).one()
        assert release.status == READY and release.folder is not None
        key = release_key(db.settings, release)
        folder = db.settings.data_dir / release.folder
        pseudonyms = {m: session.get_one(Member, m).pseudonym for m in ids if m != withdrawn}
        went_in = {row.member_id: row.used for row in session.scalars(select(ReleaseMember))}
        spends = session.scalars(select(PrivacySpend)).all()
    manifest = json.loads((folder / "manifest.json").read_text())
    table = pq.read_table(folder / manifest["files"][0]["file"])
    found = set(table.column("member").to_pylist())
    expected = {release_pseudonym(key, pseudonyms[m]) for m in ids if m not in (withdrawn, refusing)}
    assert found == expected  # the withdrawn member and the one who never sells are absent from the files
    assert set(went_in) == {m for m in ids if m not in (withdrawn, refusing)}
    assert manifest["members_included"] == len(found) == 3
    assert manifest["licence"]["no_resale"] is True and manifest["watermark"] == release.watermark
    assert [(s.epsilon, s.delta) for s in spends] == [(0.0, 0.0)]
    assert build(db) == 0  # one release per sale


def test_a_member_who_opted_out_before_close_is_not_in_the_release(founded_db: CoopDb, tmp_path: Path) -> None:
    db = founded_db
    ids = members_with_histories(db, 3)
    with db.sessions.begin() as session:
        account = buyer(session)
        draft = proposals.draft_sale(session, account, "Listening preferences", sale(PREFERENCES))
        proposals.open_vote(session, steward_of(session), draft.id, now=OPENED)
        proposal = proposals.get(session, draft.id)
        consent.opt_out(session, session.get_one(Member, ids[0]), proposal, now=DURING)
        for voter in ids:
            ballots.cast(session, session.get_one(Member, voter), proposal, "yes", now=DURING)
        proposal_id = draft.id
    with db.sessions.begin() as session:
        closing.close(session, proposal_id, now=AFTER)
    assert build(db) == 1
    with db.sessions.begin() as session:
        release = session.scalars(select(Release)).one()
        key = release_key(db.settings, release)
        table = pq.read_table(db.settings.data_dir / str(release.folder) / "artist_preferences.parquet")
        opted = session.get_one(Member, ids[0])
        assert release_pseudonym(key, opted.pseudonym) not in set(table.column("member").to_pylist())
        assert session.get(ReleaseMember, (release.id, opted.id)) is None
        told = uses.uses_of(session, opted)
    assert [u.included for u in told] == [False] and "opted out" in told[0].description


def test_only_the_buyer_downloads_and_only_while_the_link_lasts(founded_db: CoopDb, tmp_path: Path) -> None:
    db = founded_db
    ids = members_with_histories(db, 3)
    proposal_id, buyer_id = passed_sale(db, sale(PREFERENCES), ids)
    build(db)
    with db.sessions.begin() as session:
        other = buyer(session, "other@lab.example")
        owner = session.get_one(Member, buyer_id)
        with pytest.raises(NotFound):
            delivery.make_link(session, db.settings, other, proposal_id, now=AFTER)
        with pytest.raises(NotAllowed):
            delivery.make_link(session, db.settings, session.get_one(Member, ids[0]), proposal_id, now=AFTER)
        with pytest.raises(InvalidInput):
            delivery.make_link(session, db.settings, owner, proposal_id, hours=10_000, now=AFTER)
        link = delivery.make_link(session, db.settings, owner, proposal_id, hours=1, downloads=2, now=AFTER)
        other_id = other.id
    assert link.files == ["manifest.json", "artist_preferences.parquet"]
    with db.sessions.begin() as session:
        path = delivery.open_download(
            session, db.settings, session.get_one(Member, buyer_id), link.token, link.files[1], now=AFTER
        )
        assert pq.read_table(path).num_rows > 0
    with db.sessions.begin() as session:
        with pytest.raises(NotFound):  # a link forwarded to another buyer opens nothing
            delivery.open_download(
                session, db.settings, session.get_one(Member, other_id), link.token, link.files[1], now=AFTER
            )
        with pytest.raises(NotFound):
            delivery.open_download(
                session, db.settings, session.get_one(Member, buyer_id), link.token, "../../coop.sqlite", now=AFTER
            )
        with pytest.raises(NotFound):
            delivery.open_download(
                session, db.settings, session.get_one(Member, buyer_id), "guessed", link.files[1], now=AFTER
            )

    def owner_now(session: Session) -> Member:
        return session.get_one(Member, buyer_id)

    with db.sessions.begin() as session:
        delivery.open_download(session, db.settings, owner_now(session), link.token, link.files[0], now=AFTER)
    with db.sessions.begin() as session, pytest.raises(delivery.LinkUsedUp, match="no downloads left"):
        delivery.open_download(session, db.settings, owner_now(session), link.token, link.files[0], now=AFTER)
    with db.sessions.begin() as session:
        fresh = delivery.make_link(session, db.settings, owner_now(session), proposal_id, hours=1, now=AFTER)
    with db.sessions.begin() as session, pytest.raises(delivery.LinkUsedUp, match="expired"):
        delivery.open_download(
            session, db.settings, owner_now(session), fresh.token, fresh.files[1], now=AFTER + timedelta(hours=2)
        )
    with db.sessions.begin() as session, pytest.raises(Conflict, match="licence"):
        delivery.make_link(session, db.settings, owner_now(session), proposal_id, now=AFTER + timedelta(days=31))
    with db.sessions.begin() as session:
        assert session.scalars(select(DownloadLink.downloads).order_by(DownloadLink.created_utc)).all() == [2, 0]
        seen = uses.uses_of(session, session.get_one(Member, ids[1]))
    texts = [u.description for u in seen]
    assert any("release built" in t and "list entries of yours" in t for t in texts)
    assert sum("downloaded" in t for t in texts) == 2


def test_query_access_answers_until_the_budget_is_spent(founded_db: CoopDb, tmp_path: Path) -> None:
    db = founded_db
    ids = members_with_histories(db, 3)
    terms = sale(STATISTICS, data_kind="aggregates", delivery="query")
    proposal_id, buyer_id = passed_sale(db, terms, ids)
    assert build(db) == 0  # query access builds no release
    answers = [compute.ask(db.sessions, db.settings, buyer_id, proposal_id, {"epsilon": 0.4}, now=AFTER) for _ in "ab"]
    assert [a.epsilon for a in answers] == [0.4, 0.4]
    assert answers[-1].epsilon_left == pytest.approx(0.2)
    with pytest.raises(BudgetSpent):
        compute.ask(db.sessions, db.settings, buyer_id, proposal_id, {"epsilon": 0.4}, now=AFTER)
    with pytest.raises(InvalidInput, match="may choose only"):
        compute.ask(db.sessions, db.settings, buyer_id, proposal_id, {"k": 1}, now=AFTER)
    compute.ask(db.sessions, db.settings, buyer_id, proposal_id, {"epsilon": 0.2}, now=AFTER)  # exactly the rest
    with pytest.raises(BudgetSpent):
        compute.ask(db.sessions, db.settings, buyer_id, proposal_id, {"epsilon": 0.01}, now=AFTER)
    with db.sessions.begin() as session:
        spent = sum(s.epsilon for s in session.scalars(select(PrivacySpend)))
        seen = uses.uses_of(session, session.get_one(Member, ids[0]))
    assert spent == pytest.approx(1.0)
    assert sum("asked a query" in u.description for u in seen) == 3


def test_a_sale_names_a_recipe_the_cooperative_defines(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        account = buyer(session)
        for recipe, kind, match in (
            ({"name": "everything", "version": 1, "parameters": {}}, "per-member", "no recipe"),
            ({**PREFERENCES, "version": 2}, "per-member", "version"),
            (PREFERENCES, "aggregates", "per-member"),
            ({**PREFERENCES, "parameters": {"top": 10, "k": 1}}, "per-member", "k floor"),
            ({**PREFERENCES, "parameters": {"sql": "select 1"}}, "per-member", "no parameter"),
        ):
            with pytest.raises(InvalidInput, match=match):
                proposals.draft_sale(session, account, "Bad", sale(recipe, data_kind=kind))
        with pytest.raises(InvalidInput, match="query access"):
            proposals.draft_sale(session, account, "Rows by query", sale(PREFERENCES, delivery="query"))


def test_release_keys_survive_a_master_key_rotation(founded_db: CoopDb, tmp_path: Path) -> None:
    from tutti.coop import rotation

    db = founded_db
    ids = members_with_histories(db, 3)
    passed_sale(db, sale(PREFERENCES), ids)
    build(db)
    with db.sessions.begin() as session:
        before = release_key(db.settings, session.scalars(select(Release)).one())
    key_file = db.settings.data_dir / "master.key"  # where `tutti coop init` keeps it
    key_file.write_text(base64.b64encode(db.settings.master_key).decode("ascii"), encoding="ascii")
    with db.sessions() as session:
        rotated = rotation.rotate(session, db.settings)
    from dataclasses import replace

    new_key = base64.b64decode(key_file.read_text(encoding="ascii").strip())
    new_settings = replace(db.settings, master_key=new_key)
    with db.sessions.begin() as session:
        assert release_key(new_settings, session.scalars(select(Release)).one()) == before
    assert rotated.generation == 2


def test_a_copy_found_elsewhere_is_traced_to_its_sale_and_buyer(founded_db: CoopDb, tmp_path: Path) -> None:
    db = founded_db
    ids = members_with_histories(db, 3)
    proposal_id, buyer_id = passed_sale(db, sale(PREFERENCES), ids)
    build(db)
    with db.sessions.begin() as session:
        release = session.scalars(select(Release)).one()
        original = pq.read_table(db.settings.data_dir / str(release.folder) / "artist_preferences.parquet")
    found = tmp_path / "found.parquet"  # the watermark stripped, the rows reordered, a few dropped
    stripped = original.replace_schema_metadata(None)
    pq.write_table(stripped.take(list(range(stripped.num_rows - 1, 0, -1))), found)
    with db.sessions.begin() as session:
        traced = tracing.trace(session, db.settings, found)
        assert traced is not None and (traced.proposal_id, traced.buyer_id) == (proposal_id, buyer_id)
        unrelated = tmp_path / "unrelated.parquet"
        pq.write_table(stripped.drop_columns(["member"]).slice(0, 1), unrelated)
        assert tracing.trace(session, db.settings, unrelated) is None


def test_members_read_a_preview_computed_when_the_vote_opens_and_the_buyer_only_its_counts(
    founded_db: CoopDb,
) -> None:
    db = founded_db
    ids = members_with_histories(db, 3)
    with db.sessions.begin() as session:
        account = buyer(session)
        draft = proposals.draft_sale(session, account, "Listening preferences", sale(PREFERENCES))
        assert "computed when the vote opens" in preview_in_words(session, draft, Role.MEMBER)
        proposals.open_vote(session, steward_of(session), draft.id, now=OPENED)
        proposal_id = draft.id
    assert Worker(db.sessions, db.settings, [PREVIEW_SALE], poll=0.01).drain() == 1
    with db.sessions.begin() as session:
        proposal = session.get_one(Proposal, proposal_id)
        summary = session.get_one(SalePreview, proposal_id).summary
        for_members = preview_in_words(session, proposal, Role.MEMBER)
        for_buyer = preview_in_words(session, proposal, Role.BUYER)
    table = summary["tables"]["artist_preferences"]
    assert summary["members"] == 3 and table["columns"] == ["member", "rank", "artist", "share_of_time"]
    assert table["top"] and all(entry["members"] >= 2 for entry in table["top"])  # the k floor holds here too
    assert "most common" in for_members and str(table["top"][0]["artist"]) in for_members
    assert "most common" not in for_buyer and f"{table['rows']:,} rows" in for_buyer
    assert len(ids) == 3


def test_a_sales_proceeds_go_to_the_members_whose_data_went_into_its_release(founded_db: CoopDb) -> None:
    db = founded_db
    ids = members_with_histories(db, 3)
    proposal_id, _buyer = passed_sale(db, sale(PREFERENCES), ids)
    with db.sessions.begin() as session:  # before the job: the members included at close (the steward too)
        assert set(split.split_basis(session, proposal_id)) == set(ids) | {steward_of(session).id}
    with db.sessions.begin() as session:  # the release is being built: nobody is paid yet
        session.add(
            Release(
                proposal_id=proposal_id, status="building", recipe="artist-preferences", recipe_version=1,
                parameters={}, sealed_key=b"", watermark="", created_utc=AFTER, expires_utc=AFTER,
            )
        )  # fmt: skip
    with db.sessions.begin() as session, pytest.raises(Conflict, match="building"):
        split.split_basis(session, proposal_id)
    with db.sessions.begin() as session:
        session.execute(delete(Release))
    build(db)
    with db.sessions.begin() as session:
        went_in = set(session.scalars(select(ReleaseMember.member_id)))
        session.execute(delete(ReleaseMember).where(ReleaseMember.member_id == ids[0]))  # as if none of theirs fit
        assert set(split.split_basis(session, proposal_id)) == went_in - {ids[0]}
    with db.sessions.begin() as session:  # the buyer pays: the receipt of the member left out says why
        payments.record_payment(session, steward_of(session), proposal_id, 125_000, "pay-1", now=AFTER)
        [mine] = receipts.of_member(session, ids[0])
        assert receipts.body_of(mine)["reason"] == "not-in-release" and receipts.body_of(mine)["share"] == 0


def test_a_sale_whose_members_have_no_pooled_data_builds_an_empty_release(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        voters = [member(session, f"empty{n}@example.org").id for n in range(2)]
    passed_sale(founded_db, sale(PREFERENCES), voters)
    assert build(founded_db) == 1
    with founded_db.sessions.begin() as session:
        release = session.scalars(select(Release)).one()
        assert (release.status, release.members_included, release.rows) == (READY, 0, 0)
        assert session.scalars(select(ReleaseMember)).all() == []
