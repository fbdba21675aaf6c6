"""The governance API on both databases: a buyer's sale from application to published ballots, and every
governance route called by every role without anything but a closed, passed vote changing the policy or
executing a sale."""

from __future__ import annotations

import logging
from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.routing import Route

from tests.helpers.governance import sale_terms
from tests.web.conftest import STEWARD_EMAIL, STEWARD_PASSWORD, api_login, api_signup, form_token, new_client
from tutti.coop import mail
from tutti.coop.governance import closing, policy
from tutti.coop.governance.jobs import SEND_VOTE_NOTICES
from tutti.coop.jobs.worker import Worker
from tutti.coop.models import GovernancePolicy, OnboardingPolicy, Proposal
from tutti.web.routes import ROUTERS, governance_pages, stewardship
from tutti.web.routes import buyers as buyer_routes
from tutti.web.routes import governance as governance_routes


def _client(app: FastAPI, email: str, *, steward: bool = False) -> tuple[TestClient, dict[str, str]]:
    client = new_client(app)
    csrf = api_login(client, STEWARD_EMAIL, STEWARD_PASSWORD) if steward else api_signup(client, email)
    return client, {"X-CSRF-Token": csrf}


def _buyer(app: FastAPI, steward: tuple[TestClient, dict[str, str]]) -> tuple[TestClient, dict[str, str]]:
    lab, lab_h = _client(app, "data@lab.example")
    body = {"organisation": "Listening Lab", "kind": "ai-developer", "purpose": "Recommenders."}
    assert lab.post("/api/buyer-applications", json=body, headers=lab_h).status_code == 201
    (application,) = steward[0].get("/api/steward/buyer-applications").json()
    decided = steward[0].post(
        f"/api/steward/buyer-applications/{application['id']}/decision", json={"approve": True}, headers=steward[1]
    )
    assert decided.json()["status"] == "approved"
    return lab, lab_h


def _close(app: FastAPI, proposal_id: str) -> None:
    with app.state.sessions.begin() as session:
        proposal = session.get_one(Proposal, proposal_id)
        assert proposal.closes_utc is not None
        closing.close(session, proposal_id, now=proposal.closes_utc + timedelta(seconds=1))


def test_a_sale_from_application_to_published_ballots(app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    steward = _client(app, "", steward=True)
    lab, lab_h = _buyer(app, steward)
    draft = lab.post("/api/sale-proposals", json={"title": "Artist preferences", **sale_terms()}, headers=lab_h)
    assert draft.status_code == 201, draft.text
    sale = draft.json()
    assert sale["status"] == "draft" and "Listening Lab pays 1,250.00 EUR" in sale["in_words"][0]
    ada, ada_h = _client(app, "ada@example.org")
    bo, bo_h = _client(app, "bo@example.org")
    assert ada.get("/api/proposals").json() == []  # drafts are their author's and the stewards'
    opened = steward[0].post(f"/api/proposals/{sale['id']}/open", json={"voting_days": 3}, headers=steward[1])
    assert opened.status_code == 200 and opened.json()["rules"]["threshold"] == "simple"
    assert opened.json()["electorate_size"] == 3
    assert Worker(app.state.sessions, app.state.settings, [SEND_VOTE_NOTICES]).drain() == 1
    kept = mail.kept_about(app.state.settings, ada.get("/api/me").json()["id"])
    bodies = [message_from_bytes(m.read_bytes(), policy=default) for m in kept]
    (opened_mail,) = [str(b.get_content()) for b in bodies if str(b["Subject"]).startswith("Vote open")]
    assert f"vote at http://testserver/proposals/{sale['id']}" in opened_mail  # links as the steward reached us

    votes = f"/api/proposals/{sale['id']}/votes"
    mine = ada.post(votes, json={"choice": "yes"}, headers=ada_h).json()
    assert ada.post(votes, json={"choice": "no"}, headers=ada_h).status_code == 409
    theirs = bo.post(votes, json={"choice": "no"}, headers=bo_h).json()
    wrong = {"tracking_code": theirs["tracking_code"], "secret": "not it", "choice": "yes"}
    assert bo.post(f"{votes}/change", json=wrong, headers=bo_h).status_code == 403
    changed = bo.post(f"{votes}/change", json={**wrong, "secret": theirs["secret"]}, headers=bo_h)
    assert changed.status_code == 200 and changed.json()["choice"] == "yes"
    assert lab.post(votes, json={"choice": "yes"}, headers=lab_h).status_code == 403  # buyers do not vote
    assert ada.put(f"/api/proposals/{sale['id']}/opt-out", json={"opted_out": True}, headers=ada_h).json() == {
        "proposal_id": sale["id"],
        "opted_out": True,
    }
    hidden = ada.get(f"/api/proposals/{sale['id']}/ballots").json()
    assert (hidden["published"], hidden["ballots"], hidden["tally"]) == (False, [], None)
    assert ada.get(f"/api/proposals/{sale['id']}").json()["tally"] is None

    _close(app, sale["id"])
    result = ada.get(f"/api/proposals/{sale['id']}/ballots").json()
    assert result["published"] and result["tally"] == {"yes": 2, "no": 0, "abstain": 0, "ballots": 2}
    assert {b["tracking_code"]: b["choice"] for b in result["ballots"]} == {
        mine["tracking_code"]: "yes",
        theirs["tracking_code"]: "yes",
    }
    seen = ada.get(f"/api/proposals/{sale['id']}").json()
    assert (seen["status"], seen["outcome"], seen["me"]) == (
        "executed",
        "passed",
        {"elector": True, "voted": True, "opted_out": True, "included": False},
    )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for receipt in (mine, theirs):
        assert receipt["tracking_code"] not in logged and receipt["secret"] not in logged


def _body(route: APIRoute, ids: dict[str, str]) -> dict[str, object] | None:
    bodies: dict[str, dict[str, object]] = {
        "/api/buyer-applications": {"organisation": "Org", "kind": "other", "purpose": "Why."},
        "/api/steward/buyer-applications/{application_id}/decision": {"approve": False},
        "/api/steward/members/{member_id}/role": {"role": "member"},
        "/api/sale-proposals": {"title": "Sale", **sale_terms()},
        "/api/policy-proposals": {"title": "Fee", "fee_basis_points": 0},
        "/api/proposals/{proposal_id}/open": {},
        "/api/proposals/{proposal_id}/votes": {"choice": "yes"},
        "/api/proposals/{proposal_id}/votes/change": {"tracking_code": "X", "secret": "Y", "choice": "no"},
        "/api/proposals/{proposal_id}/opt-out": {"opted_out": True},
        "/api/me/consent": {"never_sell": False, "aggregates_only": False, "excluded_purposes": [], "emails": []},
    }
    return bodies.get(route.path) if (route.methods or set()) & {"POST", "PUT"} else None


def test_no_route_of_any_role_changes_the_policy_or_executes_a_sale(app: FastAPI) -> None:
    steward = _client(app, "", steward=True)
    lab = _buyer(app, steward)
    member = _client(app, "ada@example.org")
    visitor: tuple[TestClient, dict[str, str]] = (new_client(app), {})
    sale = lab[0].post("/api/sale-proposals", json={"title": "Open sale", **sale_terms()}, headers=lab[1]).json()
    change = {"title": "No fee", "fee_basis_points": 0, "capacity_per_day": 1}
    policy_draft = member[0].post("/api/policy-proposals", json=change, headers=member[1]).json()
    steward[0].post(f"/api/proposals/{policy_draft['id']}/open", json={}, headers=steward[1])
    member[0].post(f"/api/proposals/{policy_draft['id']}/votes", json={"choice": "yes"}, headers=member[1])
    with app.state.sessions() as session:
        capacity_rows = session.scalar(select(func.count()).select_from(OnboardingPolicy))
    routes = [
        r
        for router in (buyer_routes.router, governance_routes.router, governance_pages.router, stewardship.router)
        for r in router.routes
        if isinstance(r, APIRoute)
    ]
    ids = {
        "proposal_id": policy_draft["id"],
        "application_id": "none",
        "case_id": "none",
        "member_id": member[0].get("/api/me").json()["id"],
    }
    called = set()
    for role in (visitor, member, lab, steward):
        for route in routes:
            for method in route.methods or ():
                path = route.path.format(**{k: v for k, v in ids.items() if "{" + k + "}" in route.path})
                answer = role[0].request(method, path, json=_body(route, ids), headers=role[1])
                assert answer.status_code < 500, (method, route.path, answer.text)
                called.add((method, route.path))
        role[0].request("POST", f"/api/proposals/{sale['id']}/open", json={}, headers=role[1])
    assert len(called) == sum(len(r.methods or ()) for r in routes)
    # Nothing anywhere in the app writes the onboarding capacity: no route but the vote's own.
    every = [r for router in ROUTERS for r in router.routes if isinstance(r, Route)]
    writing = [r.path for r in every if (r.methods or set()) - {"GET", "HEAD"}]
    assert writing and not [p for p in writing if "capacity" in p or "onboarding" in p]
    with app.state.sessions() as session:
        assert policy.current(session) == policy.DEFAULT
        assert session.scalar(select(func.count()).select_from(GovernancePolicy)) == 0
        assert session.scalar(select(func.count()).select_from(OnboardingPolicy)) == capacity_rows
        statuses = set(session.scalars(select(Proposal.status)))
        assert "executed" not in statuses and "closed" not in statuses
    _close(app, policy_draft["id"])  # the one path: the vote closes, passed, and only now the policy changes
    with app.state.sessions() as session:
        assert policy.current(session).fee_basis_points == 0
        assert session.get_one(Proposal, policy_draft["id"]).status == "executed"


def test_refused_governance_forms_show_the_page_again_with_the_reason(app: FastAPI) -> None:
    steward = _client(app, "", steward=True)
    lab, lab_h = _buyer(app, steward)
    sale = lab.post("/api/sale-proposals", json={"title": "Sale", **sale_terms()}, headers=lab_h).json()
    page = f"/proposals/{sale['id']}"
    ada, _ = _client(app, "ada@example.org")
    steward[0].post(f"/api/proposals/{sale['id']}/open", json={}, headers=steward[1])
    csrf = form_token(ada, page, f"{page}/vote")
    assert ada.post(f"{page}/vote", data={"csrf_token": csrf, "choice": "yes"}).status_code == 200
    wrong = {"csrf_token": csrf, "tracking_code": "AAAA-AAAA-AAAA-AAAA", "secret": "guess", "choice": "no"}
    refused = ada.post(f"{page}/change", data=wrong)
    assert refused.status_code == 404 and "no ballot has that tracking code" in refused.text
    assert "guess" not in refused.text  # a secret typed into a form is never shown back
    again = ada.post(f"{page}/vote", data={"csrf_token": csrf, "choice": "no"})
    assert again.status_code == 409 and "voted on this proposal already" in again.text
    csrf_lab = form_token(lab, "/proposals/new", "/proposals/new/sale")
    form = {"csrf_token": csrf_lab, "title": "Too precise", "price": "1.234", "currency": "EUR", "purpose": "x",
            "purpose_category": "research", "data_kind": "aggregates", "duration_days": "30", "delivery": "files",
            "recipe": "aggregate-statistics"}  # fmt: skip
    priced = lab.post("/proposals/new/sale", data=form)
    assert priced.status_code == 400 and "at most 2 decimals in EUR" in priced.text
    assert 'value="Too precise"' in priced.text  # the form keeps what was typed
    # Refused before the route runs (a field missing; nobody logged in): the form again, or the error page, never a 500.
    incomplete = ada.post(
        "/proposals/new/policy", data={"csrf_token": form_token(ada, "/proposals/new"), "fee_percent": "5"}
    )
    assert incomplete.status_code == 400 and "the form is incomplete: title" in incomplete.text
    assert 'value="5"' in incomplete.text and 'name="threshold"' in incomplete.text
    with new_client(app) as visitor:
        anonymous = visitor.post("/proposals/new/policy", data={"title": "Mine"})
        assert anonymous.status_code == 401 and "not logged in" in anonymous.text


def test_scoring_weights_are_proposed_by_part_through_the_api_and_the_form(app: FastAPI) -> None:
    ada, ada_h = _client(app, "ada@example.org")
    unknown = ada.post("/api/policy-proposals", json={"title": "W", "scoring_weights": {"plays": 50}}, headers=ada_h)
    assert unknown.status_code == 422 and "scoring_weights" in unknown.text
    made = ada.post("/api/policy-proposals", json={"title": "W", "scoring_weights": {"volume": 150}}, headers=ada_h)
    assert made.status_code == 201, made.text
    words = made.json()["in_words"]
    assert "Scoring weights: volume 150 %, span 100 %, diversity 100 %, richness 100 % (now volume 100 %" in words[0]
    assert ada.get("/api/policy").json()["scoring_weights"] == dict.fromkeys(
        ("volume", "span", "diversity", "richness"), 100
    )
    csrf = form_token(ada, "/proposals/new", "/proposals/new/policy")
    form = {"csrf_token": csrf, "title": "Less volume", "weight_volume": "40", "weight_span": "abc"}
    refused = ada.post("/proposals/new/policy", data=form)
    assert refused.status_code == 400 and "the weight of span must be a whole number" in refused.text
    drafted = ada.post("/proposals/new/policy", data=form | {"weight_span": ""}, follow_redirects=False)
    assert drafted.status_code == 303
    page = ada.get(drafted.headers["location"]).text
    assert "Scoring weights: volume 40 %, span 100 %" in page
