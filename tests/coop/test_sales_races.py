"""Buyers racing themselves on PostgreSQL: queries sent at once never spend more than the sale's budget, and
downloads sent at once never take more than the link allows."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.coop.conftest import CoopDb
from tests.helpers.governance import AFTER
from tests.helpers.races import postgresql_only, race
from tests.helpers.sales import PREFERENCES, STATISTICS, build, members_with_histories, passed_sale, sale
from tutti.coop.errors import Conflict, NotFound
from tutti.coop.models import DownloadLink, Member, PrivacySpend
from tutti.coop.sales import compute, delivery

pytestmark = pytest.mark.samples
# BudgetSpent is a Conflict; a used-up link is "not found" any more.
_REFUSALS = (Conflict, NotFound)


def test_queries_sent_at_once_spend_no_more_than_the_budget(founded_db: CoopDb) -> None:
    postgresql_only(founded_db)
    ids = members_with_histories(founded_db, 3)
    terms = sale(STATISTICS, data_kind="aggregates", delivery="query", duration_days=3660)
    proposal_id, buyer_id = passed_sale(founded_db, terms, ids)

    def ask() -> object:
        return compute.ask(founded_db.sessions, founded_db.settings, buyer_id, proposal_id, {"epsilon": 0.3})

    answered, refused = race([ask for _ in range(8)], _REFUSALS)
    assert (answered, refused) == (3, 5)  # 3 x 0.3 fits in epsilon 1.0; a fourth would not
    with founded_db.sessions() as session:
        assert sum(session.scalars(select(PrivacySpend.epsilon))) == pytest.approx(0.9)


def test_downloads_sent_at_once_take_no_more_than_the_link_allows(founded_db: CoopDb) -> None:
    postgresql_only(founded_db)
    ids = members_with_histories(founded_db, 3)
    proposal_id, buyer_id = passed_sale(founded_db, sale(PREFERENCES, duration_days=3660), ids)
    build(founded_db)
    with founded_db.sessions.begin() as session:
        link = delivery.make_link(
            session, founded_db.settings, session.get_one(Member, buyer_id), proposal_id, downloads=3, now=AFTER
        )

    def download() -> object:
        with founded_db.sessions.begin() as session:
            buyer = session.get_one(Member, buyer_id)
            return delivery.open_download(session, founded_db.settings, buyer, link.token, link.files[1], now=AFTER)

    assert race([download for _ in range(10)], _REFUSALS) == (3, 7)
    with founded_db.sessions() as session:
        assert session.scalars(select(DownloadLink.downloads)).one() == 3
