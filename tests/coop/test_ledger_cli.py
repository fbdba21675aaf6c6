"""``tutti coop ledger`` and ``tutti coop log verify --receipt`` against a cooperative founded by ``tutti coop
init``, on both databases: a payment recorded twice lands once, a refund reverses part of it, a payout batch is
written, sent and settled once, the books check and export, and a member's receipt verifies offline while an
altered one fails."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tests.coop.conftest import EmptyDb, cli_database_url
from tests.helpers.ledger import passed_sale
from tutti.cli import app
from tutti.coop.db import session_factory
from tutti.coop.ledger import payouts, receipts
from tutti.coop.members import emails
from tutti.coop.models import Member
from tutti.coop.settings import MASTER_KEY, load_coop_settings


def test_the_money_from_the_command_line(empty_db: EmptyDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASTER_KEY.env, raising=False)
    monkeypatch.setenv("TUTTI_STEWARD_PASSWORD", "a steward's long password")
    home, url = tmp_path / "home", cli_database_url(empty_db)
    where = ["--home", str(home), "--database-url", url]
    runner = CliRunner()
    founded = runner.invoke(app, ["coop", "init", "--name", "Owls", "--steward-email", "steward@example.org", *where])
    assert founded.exit_code == 0, founded.output
    settings = load_coop_settings(home, url)
    sessions = session_factory(empty_db.engine, settings)
    sale, ids = passed_sale(sessions, {"ada@example.org": 2, "bo@example.org": 1}, price_minor=30_000)
    with sessions.begin() as session:
        steward = emails.find_member(session, settings, "steward@example.org")
        assert steward is not None
        steward_id = steward.id
        ada = session.get_one(Member, ids["ada@example.org"])
        payouts.set_details(session, settings, ada, payouts.check_details("iban", "Ada L", "DE89370400440532013000"))
    acting = ["--steward", steward_id, *where]

    for _ in range(2):
        paid = runner.invoke(app, ["coop", "ledger", "pay", sale, "30000", "--key", "invoice-1", *acting])
        assert paid.exit_code == 0, paid.output
    assert "recorded already" in paid.stdout
    payment_id = paid.stdout.split()[1]
    refunded = runner.invoke(app, ["coop", "ledger", "refund", payment_id, "3000", "--key", "credit-1", *acting])
    assert refunded.exit_code == 0 and "3,000 minor units" in refunded.stdout, refunded.output
    batched = runner.invoke(app, ["coop", "ledger", "batch", "iban", *acting])
    assert batched.exit_code == 0 and "1 lines, 16,200 minor units" in batched.stdout, batched.output
    batch_id = batched.stdout.split()[1].rstrip(":")
    written = runner.invoke(app, ["coop", "ledger", "file", batch_id, "--out", str(tmp_path),
                                  "--debtor-iban", "FR1420041010050500013M02606", *where])  # fmt: skip
    assert written.exit_code == 0, written.output
    assert b"<IBAN>DE89370400440532013000</IBAN>" in next(tmp_path.glob("payouts-*.xml")).read_bytes()
    assert runner.invoke(app, ["coop", "ledger", "sent", batch_id, *acting]).exit_code == 0
    with sessions() as session:
        line = payouts.lines_of(session, batch_id)[0].id
    assert runner.invoke(app, ["coop", "ledger", "settle", str(line), "paid", *acting]).exit_code == 0
    twice = runner.invoke(app, ["coop", "ledger", "settle", str(line), "paid", *acting])
    assert twice.exit_code == 1 and "marked paid already" in twice.stderr
    checked = runner.invoke(app, ["coop", "ledger", "check", *where])
    assert checked.exit_code == 0 and "the books check" in checked.stdout, checked.output
    exported = runner.invoke(app, ["coop", "ledger", "export", "--out", str(tmp_path / "ledger.csv"), *where])
    assert exported.exit_code == 0 and (tmp_path / "ledger.csv").read_text().startswith("posted_utc,")

    with sessions.begin() as session:
        mine = receipts.of_member(session, ids["ada@example.org"])[-1]  # the payment's (the refund's is newer)
        data = receipts.receipt_file(session, settings, ids["ada@example.org"], mine.id)
    good, bad = tmp_path / "receipt.json", tmp_path / "altered.json"
    good.write_bytes(orjson.dumps(data))
    bad.write_bytes(orjson.dumps({**data, "receipt": data["receipt"].replace('"weight":2', '"weight":9')}))
    verified = runner.invoke(app, ["coop", "log", "verify", "--receipt", str(good), "--home", str(home)])
    assert verified.exit_code == 0 and "included, weight 2 of 3, share 180.00 EUR" in verified.stdout, verified.output
    refused = runner.invoke(app, ["coop", "log", "verify", "--receipt", str(bad), "--home", str(home)])
    assert refused.exit_code == 1 and "not among those the log entry signs" in refused.stderr
