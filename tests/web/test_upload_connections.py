"""The upload request holds a database connection only while it reads or writes, never while it saves and
seals the files, and never two at once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from tests.web.conftest import api_signup, api_token, bearer, run_jobs, sample
from tutti.coop.contributions.uploads import SealedUpload
from tutti.web.routes import contributions

pytestmark = pytest.mark.samples


def test_an_upload_seals_without_a_connection_and_never_holds_two(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine: Engine = app.state.sessions.kw["bind"]
    checked_out: Callable[[], int] = getattr(engine.pool, "checkedout")  # noqa: B009 -- QueuePool only
    token = api_token(client, api_signup(client, "sealer@example.org"))
    while_sealing: list[int] = []
    real_seal: Callable[[Sequence[Path], bytes, Path], SealedUpload] = getattr(contributions, "seal")  # noqa: B009

    def seal(paths: Sequence[Path], key: bytes, out: Path) -> SealedUpload:
        while_sealing.append(checked_out())
        return real_seal(paths, key, out)

    monkeypatch.setattr(contributions, "seal", seal)
    most: list[int] = []

    def on_checkout(*_: object) -> None:
        most.append(checked_out())

    event.listen(engine, "checkout", on_checkout)
    try:
        with sample().open("rb") as fp:
            response = client.post("/api/contributions", files=[("files", (sample().name, fp))], headers=bearer(token))
    finally:
        event.remove(engine, "checkout", on_checkout)
    assert response.status_code == 202, response.text
    assert while_sealing == [0]
    assert most and max(most) == 1, most
    assert run_jobs(app) == 1
