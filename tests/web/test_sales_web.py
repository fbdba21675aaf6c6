"""The sales API on a running app (SQLite and PostgreSQL): a release for its buyer only, links that count and
expire, each file needing the buyer's login; queries until the budget is spent; members' uses of their data.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.coop.conftest import CoopDb
from tests.helpers.governance import PASSWORD
from tests.helpers.sales import PREFERENCES, STATISTICS, build, members_with_histories, passed_sale, sale
from tests.web.conftest import api_login, new_client
from tutti.coop.models import DownloadLink, utcnow

pytestmark = pytest.mark.samples
LONG = 3660  # days: the licence outlasts the test, whatever today's date


def logged_in(app: FastAPI, email: str) -> tuple[TestClient, dict[str, str]]:
    client = new_client(app)
    csrf = api_login(client, email, PASSWORD)
    return client, {"X-CSRF-Token": csrf}


def test_the_buyer_gets_the_release_and_nobody_else_does(app: FastAPI, founded_db: CoopDb) -> None:
    ids = members_with_histories(founded_db, 3)
    proposal_id, _buyer = passed_sale(founded_db, sale(PREFERENCES, duration_days=LONG), ids)
    assert build(founded_db) == 1
    buyer, buyer_csrf = logged_in(app, "data@lab.example")
    member, member_csrf = logged_in(app, "listener0@example.org")
    state = buyer.get(f"/api/sales/{proposal_id}/release")
    assert state.status_code == 200 and state.json()["status"] == "ready"
    assert state.json()["members_included"] == 3
    assert member.get(f"/api/sales/{proposal_id}/release").status_code == 404
    refused = member.post(f"/api/sales/{proposal_id}/links", json={}, headers=member_csrf)
    assert refused.status_code == 403
    made = buyer.post(f"/api/sales/{proposal_id}/links", json={"hours": 1, "downloads": 2}, headers=buyer_csrf)
    assert made.status_code == 201, made.text
    link = made.json()
    assert link["files"] == ["manifest.json", "artist_preferences.parquet"]
    parquet_url = link["urls"][1]
    assert new_client(app).get(parquet_url).status_code == 401  # the link alone opens nothing
    assert member.get(parquet_url).status_code == 403  # nor a member's login (another buyer's: 404, tested in the core)
    got = buyer.get(parquet_url)
    assert got.status_code == 200 and got.headers["content-type"] == "application/vnd.apache.parquet"
    assert pq.read_table(io.BytesIO(got.content)).num_rows > 0
    assert buyer.get(link["urls"][0]).json()["recipe"]["name"] == "artist-preferences"
    assert buyer.get(parquet_url).status_code == 404  # two downloads, both taken
    again = buyer.post(f"/api/sales/{proposal_id}/links", json={}, headers=buyer_csrf).json()
    with founded_db.sessions.begin() as session:  # the clock moves past the link's end
        session.execute(update(DownloadLink).values(expires_utc=utcnow() - timedelta(seconds=1)))
    expired = buyer.get(again["urls"][1])
    assert expired.status_code == 404 and "expired" in expired.json()["detail"]
    uses = member.get("/api/me/uses").json()["uses"]
    assert any("release built" in u["description"] for u in uses)
    assert sum("downloaded" in u["description"] for u in uses) == 2


def test_a_buyer_queries_until_the_budget_is_spent(app: FastAPI, founded_db: CoopDb) -> None:
    ids = members_with_histories(founded_db, 3)
    terms = sale(STATISTICS, data_kind="aggregates", delivery="query", duration_days=LONG)
    proposal_id, _buyer = passed_sale(founded_db, terms, ids)
    buyer, csrf = logged_in(app, "data@lab.example")
    first = buyer.post(f"/api/sales/{proposal_id}/queries", json={"epsilon": 0.6, "by": "artist"}, headers=csrf)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["epsilon"] == 0.6 and answer["epsilon_left"] == pytest.approx(0.4)
    assert set(answer["tables"]) == {"aggregate_statistics"}
    period = {"epsilon": 0.1, "since": "2020-01-01", "until": "2030-01-01"}
    dated = buyer.post(f"/api/sales/{proposal_id}/queries", json=period, headers=csrf)
    assert dated.status_code == 200 and dated.json()["epsilon_left"] == pytest.approx(0.3)
    as_number = buyer.post(f"/api/sales/{proposal_id}/queries", json={"since": 0}, headers=csrf)
    assert as_number.status_code == 422  # a date is text, never a number read as a timestamp
    spent = buyer.post(f"/api/sales/{proposal_id}/queries", json={"epsilon": 0.6}, headers=csrf)
    assert spent.status_code == 409 and "spent" in spent.json()["detail"]
    sql = buyer.post(f"/api/sales/{proposal_id}/queries", json={"sql": "select * from pool"}, headers=csrf)
    assert sql.status_code == 422  # never SQL: the schema has no such field
