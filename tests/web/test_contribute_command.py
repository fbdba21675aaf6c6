"""``tutti coop contribute``: bad input fails on this machine, naming the file, before anything is sent; a real
export goes to a live server (with a background worker), its validation is followed and its report printed; only
the files an importer reads leave the machine."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.web.conftest import MICA_PLAYS, PASSWORD, LiveServer, confirm_by_mail, sample
from tutti.cli import app
from tutti.coop_client import COOP_TOKEN

README = Path(__file__).resolve().parents[2] / "README.md"
# Nothing listens on the discard port: a command that tried to connect would fail with another error.
NOWHERE = "http://127.0.0.1:9"


def contribute(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["coop", "contribute", *args])
    return result.exit_code, result.output


def member_token(server: LiveServer, email: str) -> str:
    with httpx.Client(base_url=server.url) as client:
        assert client.post("/api/signup", json={"email": email, "password": PASSWORD}).status_code == 202
        confirm_by_mail(client, email, server.db.settings)
        signed = client.post("/api/session", json={"email": email, "password": PASSWORD})
        made = client.post("/api/tokens", json={"name": "cli"}, headers={"X-CSRF-Token": signed.json()["csrf_token"]})
        return str(made.json()["secret"])


@pytest.fixture(autouse=True)
def no_token_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(COOP_TOKEN.env, raising=False)


def test_unreadable_input_fails_locally_and_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "my_spotify_data.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    code, output = contribute(str(broken), "--server", NOWHERE, "--token", "t")
    assert code == 1 and "error:" in output and "my_spotify_data.zip" in output and "not a readable zip" in output
    notes = tmp_path / "notes.txt"
    notes.write_text("songs I like", encoding="utf-8")
    code, output = contribute(str(notes), "--server", NOWHERE, "--token", "t")
    assert code == 1 and "notes.txt" in output and "holds no plays Tutti can read" in output


@pytest.mark.samples
def test_a_token_is_required_and_the_server_address_checked() -> None:
    code, output = contribute(str(sample()), "--server", NOWHERE)
    assert code == 1 and f"set {COOP_TOKEN.env}" in output
    code, output = contribute(str(sample()), "--server", "coop.example.org", "--token", "t")
    assert code == 1 and "http:// or https://" in output
    code, output = contribute(str(sample()), "--server", NOWHERE, "--token", "t")
    assert code == 1 and "cannot reach http://127.0.0.1:9" in output


@pytest.mark.samples
def test_a_real_export_is_uploaded_and_its_report_printed(live_server: LiveServer, tmp_path: Path) -> None:
    # A folder as unpacked from Spotify's zip: the history, and a personal file that must stay here.
    folder = tmp_path / "Spotify Extended Streaming History"
    folder.mkdir()
    shutil.copy(sample(), folder / sample().name)
    (folder / "Userdata.json").write_text('{"email": "ada@example.org"}', encoding="utf-8")
    token = member_token(live_server, "ada@example.org")
    result = CliRunner(env={COOP_TOKEN.env: token}).invoke(
        app, ["coop", "contribute", str(folder), "--server", live_server.url + "/"]
    )
    assert result.exit_code == 0, result.output
    assert f"read {MICA_PLAYS:,} plays (spotify_extended) locally; uploading 1 file(s)" in result.output
    assert "uploaded; the server is checking it (contribution " in result.output
    assert "accepted: " in result.output and f"{MICA_PLAYS:,} new plays in the pool" in result.output
    for part in ("overfull_hours", "no other member's history holds a notable share of it", "diversity"):
        assert part in result.output
    assert "Userdata.json" not in result.output
    contribution_id = result.output.split("(contribution ", 1)[1].split(")", 1)[0]
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}) as client:
        report = client.get(f"/api/contributions/{contribution_id}").json()["report"]
        # The command needs, and the token holds, the `contribute` scope only: nothing else of the account.
        assert client.get("/api/contributions").status_code == 403
        assert client.post("/api/me/export").status_code == 403
    assert [f["name"] for f in report["files"]] == [sample().name]


@pytest.mark.samples
def test_a_rejected_upload_prints_the_reasons_and_exits_1(live_server: LiveServer) -> None:
    first = member_token(live_server, "ada@example.org")
    assert contribute(str(sample()), "--server", live_server.url, "--token", first)[0] == 0
    code, output = contribute(
        str(sample()), "--server", live_server.url, "--token", member_token(live_server, "bo@example.org")
    )
    assert code == 1
    assert "held" in output and "error: contribution held: held for the stewards" in output
    code, output = contribute(str(sample()), "--server", live_server.url, "--token", "tutti_not-a-token")
    assert code == 1 and "the server refused the upload (401): unknown or revoked API token" in output


def test_the_commands_and_token_setting_are_documented() -> None:
    readme = README.read_text(encoding="utf-8")
    for text in ("tutti coop serve", "tutti coop contribute", f"`{COOP_TOKEN.env}`"):
        assert text in readme, text
