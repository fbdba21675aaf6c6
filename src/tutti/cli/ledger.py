"""``tutti coop ledger``: the stewards' and the accountant's side of the money from the command line.

Each command is a few lines over ``tutti.coop.ledger``: record a buyer's payment or a refund (idempotent by
``--key``, so a command run twice records once), batch payouts into a file, mark a batch sent and its lines paid or
failed, check the books against their postings, and export every posting for the accountant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tutti.cli._common import HomeOption, PlainHelpCommand, console
from tutti.cli.coop import DatabaseUrlOption, _cooperative
from tutti.cli.governance import StewardOption

ledger_app = typer.Typer(
    help="The cooperative's money: payments, refunds, payout batches, the books and their export.",
    no_args_is_help=True,
)
KeyOption = Annotated[
    str, typer.Option("--key", help="A key of your choice for this transfer: the same command again records nothing.")
]


def register(coop_app: typer.Typer) -> None:
    coop_app.add_typer(ledger_app, name="ledger")


def _record(home: Path | None, database_url: str | None, steward: str, kind: str, target: str, amount: int,
            key: str) -> None:  # fmt: skip
    """Record a payment for the sale ``target`` or a refund of the payment ``target``, and say what happened."""
    from tutti.coop.ledger import payments
    from tutti.coop.members import accounts

    record = payments.record_payment if kind == payments.PAYMENT else payments.record_refund
    with _cooperative(home, database_url) as (session, _settings):
        posted = record(session, accounts.get_member(session, steward), target, amount, key)
        session.commit()
        said = "was recorded already" if posted.replayed else "recorded"
        console.print(f"{kind} {posted.transfer.id} of {posted.transfer.amount:,} minor units {said}", highlight=False)


@ledger_app.command("pay", cls=PlainHelpCommand)
def ledger_pay_command(
    sale_id: Annotated[str, typer.Argument(help="The passed sale the buyer paid for.")],
    amount: Annotated[int, typer.Argument(help="The amount received, in minor units (cents for EUR).")],
    key: KeyOption,
    steward: StewardOption,
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Record a buyer's payment: the fee is taken, the rest split among the sale's members; receipts issued."""
    _record(home, database_url, steward, "payment", sale_id, amount, key)


@ledger_app.command("refund", cls=PlainHelpCommand)
def ledger_refund_command(
    payment_id: Annotated[str, typer.Argument(help="The payment to refund part or all of.")],
    amount: Annotated[int, typer.Argument(help="The amount refunded, in minor units.")],
    key: KeyOption,
    steward: StewardOption,
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Refund part or all of a payment: the fee and every share are reversed in proportion."""
    _record(home, database_url, steward, "refund", payment_id, amount, key)


@ledger_app.command("batch", cls=PlainHelpCommand)
def ledger_batch_command(
    method: Annotated[str, typer.Argument(help="iban (SEPA), paypal or wise.")],
    steward: StewardOption,
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Batch every balance above the payout minimum payable by METHOD; its money is in transit from now."""
    from tutti.coop.ledger import payouts
    from tutti.coop.members import accounts

    with _cooperative(home, database_url) as (session, settings):
        batch = payouts.create_batch(session, settings, accounts.get_member(session, steward), method)
        lines = payouts.lines_of(session, batch.id)
        session.commit()
        total = sum(line.amount for line in lines)
        console.print(f"batch {batch.id}: {len(lines):,} lines, {total:,} minor units", highlight=False)


@ledger_app.command("file", cls=PlainHelpCommand)
def ledger_file_command(
    batch_id: Annotated[str, typer.Argument(help="The payout batch.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the payout file into.")] = Path("."),
    debtor_name: Annotated[str, typer.Option("--debtor-name", help="SEPA: the paying account's holder.")] = "",
    debtor_iban: Annotated[str, typer.Option("--debtor-iban", help="SEPA: the IBAN the payouts leave from.")] = "",
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Write a batch's payout file: SEPA pain.001 XML (validated), or PayPal or Wise CSV."""
    from tutti.coop.ledger import payouts

    with _cooperative(home, database_url) as (session, settings):
        name, data = payouts.batch_file(session, settings, batch_id, debtor_name=debtor_name, debtor_iban=debtor_iban)
        session.commit()
    target = out / name
    target.write_bytes(data)
    console.print(f"wrote {target}", highlight=False)


@ledger_app.command("sent", cls=PlainHelpCommand)
def ledger_sent_command(
    batch_id: Annotated[str, typer.Argument(help="The payout batch handed to the bank or service.")],
    steward: StewardOption,
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Mark a batch sent: its lines can now be marked paid or failed."""
    from tutti.coop.ledger import payouts
    from tutti.coop.members import accounts

    with _cooperative(home, database_url) as (session, _settings):
        payouts.mark_sent(session, accounts.get_member(session, steward), batch_id)
        session.commit()
    console.print(f"batch {batch_id} is sent", highlight=False)


@ledger_app.command("settle", cls=PlainHelpCommand)
def ledger_settle_command(
    line_id: Annotated[int, typer.Argument(help="The payout line.")],
    outcome: Annotated[str, typer.Argument(help="paid, or failed (its money returns to the balance).")],
    steward: StewardOption,
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Mark one payout line paid or failed, once."""
    from tutti.coop.errors import InvalidInput
    from tutti.coop.ledger import payouts
    from tutti.coop.members import accounts

    if outcome not in ("paid", "failed"):
        raise InvalidInput("the outcome is paid or failed")
    with _cooperative(home, database_url) as (session, _settings):
        payouts.settle(session, accounts.get_member(session, steward), line_id, outcome == "paid")
        session.commit()
    console.print(f"line {line_id} is {outcome}", highlight=False)


@ledger_app.command("check", cls=PlainHelpCommand)
def ledger_check_command(database_url: DatabaseUrlOption = None, home: HomeOption = None) -> None:
    """Recompute every account from its postings: the books balance, and no account is overdrawn."""
    from tutti.coop.errors import CoopError
    from tutti.coop.ledger.transfers import check_books

    with _cooperative(home, database_url) as (session, _settings):
        found = check_books(session)
    for finding in found.findings:
        console.print(f"[red]{finding}[/]", highlight=False)
    if not found.ok:
        raise CoopError(f"the books do not check: {len(found.findings)} problem(s), listed above")
    console.print(
        f"the books check: {found.accounts:,} accounts, {found.postings:,} postings, "
        f"{found.total_debits:,} debited = {found.total_credits:,} credited",
        highlight=False,
    )


@ledger_app.command("export", cls=PlainHelpCommand)
def ledger_export_command(
    out: Annotated[Path, typer.Option("--out", help="The CSV file to write.")] = Path("ledger.csv"),
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Write every posting as CSV for the accountant (accounts by pseudonymous id and kind)."""
    from tutti.coop.ledger import statements

    with _cooperative(home, database_url) as (session, _settings):
        out.write_bytes(statements.ledger_csv(session))
    console.print(f"wrote {out}", highlight=False)
