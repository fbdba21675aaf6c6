"""A refused request never sends a submitted secret back, nor logs it: every route that takes a password (found
from the app's own routes, so a new one is covered too) is sent malformed bodies holding a canary password."""

from __future__ import annotations

import logging

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.web.conftest import form_token
from tutti.web.routes import ROUTERS

CANARY = "Canary-pw-7f3a9c-do-not-echo"
SECRET_FIELDS = ("password",)


def _routes_taking_a_secret() -> list[tuple[str, bool]]:
    """(path, is a form) of every POST route with a body field named like a secret."""
    found = []
    for route in (route for router in ROUTERS for route in router.routes):
        if not isinstance(route, APIRoute) or "POST" not in (route.methods or set()):
            continue
        fields = {field.name for field in route.dependant.body_params}
        for param in route.dependant.body_params:
            annotation = getattr(param.field_info, "annotation", None)
            fields |= set(getattr(annotation, "model_fields", {}))
        if fields & set(SECRET_FIELDS):
            found.append((route.path, not route.path.startswith("/api/")))
    return found


API_BODIES: list[object] = [
    {"password": CANARY},
    {"email": "someone@example.org", "password": CANARY + "x" * 2000},
    {"email": [CANARY], "password": CANARY},
    {"email": "someone@example.org", "password": {"value": CANARY}},
    {"email": "someone@example.org", "password": [CANARY, CANARY]},
    {"email": None, "password": CANARY, "unexpected": CANARY},
    [CANARY],
    CANARY,
]


def test_the_routes_that_take_a_password_are_found() -> None:
    assert {path for path, _ in _routes_taking_a_secret()} >= {"/api/signup", "/api/session", "/signup", "/login"}


def test_no_refusal_echoes_a_submitted_password(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    answers = []
    for path, is_form in _routes_taking_a_secret():
        if is_form:
            token = form_token(client, path)
            for form in (
                {"csrf_token": token, "password": CANARY},
                {"csrf_token": token, "email": "not an email", "password": CANARY},
                {"csrf_token": token, "email": "someone@example.org", "password": CANARY + "x" * 2000},
                {"csrf_token": "forged", "email": "someone@example.org", "password": CANARY},
                {"csrf_token": token, "email": "someone@example.org", "password": CANARY[:6]},
            ):
                answers.append(client.post(path, data=form))
        else:
            for body in API_BODIES:
                answers.append(client.post(path, json=body))
            answers.append(
                client.post(
                    path, content=b'{"password": "' + CANARY.encode(), headers={"content-type": "application/json"}
                )
            )
            answers.append(client.post(path, data={"email": "someone@example.org", "password": CANARY}))
            answers.append(client.post(path, json={"email": "someone@example.org", "password": CANARY[:6]}))
    assert len(answers) >= 4 * 5
    refused = [a for a in answers if a.status_code >= 400]
    assert len(refused) == len(answers), [(a.request.url.path, a.status_code) for a in answers if a.status_code < 400]
    assert {a.status_code for a in refused} <= {401, 403, 409, 413, 422, 429}
    assert any(a.status_code == 422 for a in refused)
    for answer in refused:
        assert CANARY[:12] not in answer.text, (answer.request.url.path, answer.status_code, answer.text[:300])
        assert CANARY[:12] not in str(answer.headers)
    assert CANARY[:12] not in caplog.text
