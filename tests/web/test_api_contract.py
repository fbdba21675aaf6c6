"""The API keeps its published contract: schemathesis, with every check it has, against the running server.

The real app runs under uvicorn (``live_server``, on SQLite and on PostgreSQL); schemathesis reads its
``/openapi.json`` and sends what its phases generate (examples, coverage, fuzzing, stateful sequences), once with a
steward's API token and once with an ordinary member's. ``schemathesis.toml`` at the project's root holds the one
setting that differs from schemathesis' defaults, with the reason. Operations that end the caller's access (revoking
a token, withdrawing) run last, each with a member of their own, so they cannot hide the others behind 401s.
The seed is fixed: a failure here reproduces with the same command.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import PASSWORD, STEWARD_EMAIL, STEWARD_PASSWORD, LiveServer, confirm_by_mail

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("st")
ENDS_ACCESS = ("DELETE /api/tokens/{token_id}", "POST /api/me/withdraw")
EXAMPLES = 15
SEED = 20261130


def _token(server: LiveServer, email: str, password: str, *, new: bool) -> str:
    with httpx.Client(base_url=server.url) as client:
        if new:
            signed = client.post("/api/signup", json={"email": email, "password": password})
            assert signed.status_code == 202, signed.text
            confirm_by_mail(client, email, server.db.settings)
        answer = client.post("/api/session", json={"email": email, "password": password})
        assert answer.status_code == 200, answer.text
        csrf = answer.json()["csrf_token"]
        every_scope = {"name": "contract", "scopes": ["contribute", "read", "account"]}
        made = client.post("/api/tokens", json=every_scope, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201, made.text
        return str(made.json()["secret"])


def _run(server: LiveServer, token: str, workdir: Path, *selection: str) -> None:
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--no-color",
        *selection,
    ]
    # In a folder of the test's own: schemathesis keeps a cache in the folder it runs in.
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def _all_but_ending_access() -> list[str]:
    return [arg for operation in ENDS_ACCESS for arg in ("--exclude-name", operation)]


@pytest.mark.skipif(not SCHEMATHESIS.exists(), reason="schemathesis is not installed (it is in the test extra)")
def test_every_operation_keeps_the_contract_for_a_steward_and_a_member(live_server: LiveServer, tmp_path: Path) -> None:
    # Every token first: the runs' own signups soon meet the signup rate limit (as they should).
    steward = _token(live_server, STEWARD_EMAIL, STEWARD_PASSWORD, new=False)
    member = _token(live_server, "member@example.org", PASSWORD, new=True)
    leaving = [_token(live_server, f"leaving-{n}@example.org", PASSWORD, new=True) for n in range(len(ENDS_ACCESS))]
    for token in (steward, member):
        _run(live_server, token, tmp_path, *_all_but_ending_access())
    for token, operation in zip(leaving, ENDS_ACCESS, strict=True):
        _run(live_server, token, tmp_path, "--include-name", operation)
