"""Payout files for ordinary payment rails: SEPA credit transfer XML and PayPal and Wise mass-payout CSV.

Pure functions of the lines to pay (with the recipients' opened details) and the ledger's currency; the column
formats are documented in ``docs/ledger.md``. The SEPA file is ISO 20022 ``pain.001.001.03``, made by ``sepaxml``
and validated against the XSD it ships before it is returned: a file a bank would refuse is never handed out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError

from tutti.coop.errors import InvalidInput
from tutti.coop.governance.terms import decimal_text

SEPA_SCHEMA = "pain.001.001.03"
PAYPAL_COLUMNS = ("recipient", "amount", "currency", "reference", "note")
WISE_COLUMNS = (
    "name",
    "recipientEmail",
    "paymentReference",
    "receiverType",
    "amountCurrency",
    "amount",
    "sourceCurrency",
    "targetCurrency",
)


@dataclass(frozen=True)
class FileLine:
    """One payout to write: the line's id, amount in minor units, and where it goes."""

    line_id: int
    amount: int
    name: str
    iban: str | None = None
    email: str | None = None


def major(amount: int, minor_units: int) -> str:
    """``amount`` minor units as a decimal text of major units (``1234`` with 2 digits: ``12.34``)."""
    return decimal_text(amount, minor_units)


def reference(line: FileLine) -> str:
    return f"tutti-{line.line_id}"


def sepa_xml(lines: Sequence[FileLine], *, debtor_name: str, debtor_iban: str, currency: str, execution: date) -> bytes:
    """A SEPA credit transfer (pain.001.001.03) paying every line from the debtor's account, schema-validated."""
    if currency != "EUR":
        raise InvalidInput(f"SEPA credit transfers are in EUR; the ledger keeps {currency}")
    transfer = SepaTransfer({"name": debtor_name[:70], "IBAN": debtor_iban, "batch": True, "currency": "EUR"},
                            schema=SEPA_SCHEMA)  # fmt: skip
    for line in lines:
        assert line.iban is not None
        transfer.add_payment(
            {
                "name": line.name,
                "IBAN": line.iban,
                "amount": line.amount,
                "execution_date": execution,
                "description": f"Tutti payout {line.line_id}",
                "endtoend_id": reference(line),
            }
        )
    try:
        out: bytes = transfer.export(validate=True)
    except ValidationError as exc:
        raise InvalidInput(f"the SEPA file does not validate against {SEPA_SCHEMA}: {exc}") from None
    return out


def _csv(rows: Sequence[Sequence[str]], header: Sequence[str] | None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def paypal_csv(lines: Sequence[FileLine], *, currency: str, minor_units: int) -> bytes:
    """PayPal Payouts' upload file: no header; email, amount, currency, reference id, note."""
    return _csv(
        [(line.email or "", major(line.amount, minor_units), currency, reference(line), "Tutti cooperative payout")
         for line in lines],
        None,
    )  # fmt: skip


def wise_csv(lines: Sequence[FileLine], *, currency: str, minor_units: int) -> bytes:
    """Wise's batch payment file for email recipients, with its header (``WISE_COLUMNS``): ``amountCurrency``
    ``target`` makes each a fixed-target payment, so the member gets the exact amount and Wise's fee is ours."""
    return _csv(
        [(line.name, line.email or "", f"Tutti payout {line.line_id}", "PRIVATE", "target",
          major(line.amount, minor_units), currency, currency) for line in lines],
        WISE_COLUMNS,
    )  # fmt: skip
