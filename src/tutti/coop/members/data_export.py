"""Everything the cooperative holds about one member, as one zip they can take away.

``plays.jsonl``      their pooled plays, one listen per line (``tutti.listens``: what ``tutti export`` writes)
``plays.parquet``    the same plays with every pooled field
``contributions.json`` each contribution: when, status, reasons, plays added, points and the full report
``audit.json``       every link of the audit log that concerns them
``member.json``      their member record (no password hash; the email is theirs to see)
``governance.json``  their consent, opt-outs, buyer applications, which votes they cast (never how) and sales
                     that include them (``governance.records``)
``money.json``       their balance, every movement of it, their receipts and payout details (``tutti.coop.ledger``)
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop import audit, crypto
from tutti.coop.actions import EXPORT_DATA, require
from tutti.coop.contributions.queries import report_of
from tutti.coop.errors import KeyDestroyed
from tutti.coop.governance import records
from tutti.coop.members import emails
from tutti.coop.models import Contribution, Member
from tutti.coop.pool.contract import POOL_SCHEMA
from tutti.coop.pool.files import pool_of
from tutti.coop.settings import CoopSettings
from tutti.listens import to_listen

_BATCH = 20_000


@dataclass(frozen=True)
class MemberExport:
    path: Path
    plays: int
    contributions: int
    audit_events: int


def _json(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str)


def _member_record(member: Member, email: str | None) -> dict[str, Any]:
    return {
        "id": member.id,
        "email": email,
        "role": member.role.value,
        "status": member.status.value,
        "created_utc": member.created_utc,
        "activated_utc": member.activated_utc,
        "withdrawn_utc": member.withdrawn_utc,
        "pseudonym": member.pseudonym,
    }


def _contribution_record(session: Session, row: Contribution) -> dict[str, Any]:
    # Whose history a near-copy matched is for the stewards, not for the uploader.
    report = report_of(session, row).for_member()
    return {
        "id": row.id,
        "created_utc": row.created_utc,
        "status": row.status.value,
        "reasons": list(report.reasons),
        "plays_added": row.plays_added,
        "points": row.score,
        "formats": row.export_label,
        "report": report.to_json(),
    }


def _money_record(session: Session, settings: CoopSettings, member: Member) -> dict[str, Any]:
    from tutti.coop.ledger import accounts, payouts, receipts, statements  # the ledger depends on members

    details = payouts.details_of(session, settings, member.id)
    return {
        "balance_minor": accounts.member_balance(session, member.id),
        "movements": [m.__dict__ for m in statements.history(session, member.id)],
        "receipts": [receipts.body_of(r) for r in receipts.of_member(session, member.id)],
        "payout_details": None if details is None else details.__dict__,
    }


def export_member_data(
    session: Session, settings: CoopSettings, member: Member, out_zip: Path, *, now: datetime | None = None
) -> MemberExport:
    """Write the member's data to ``out_zip`` (replacing it) and log that they took it."""
    require(EXPORT_DATA, member)
    contributions = list(
        session.scalars(
            select(Contribution).where(Contribution.member_id == member.id).order_by(Contribution.created_utc)
        )
    )
    audit.record(session, audit.MemberExported(member_id=member.id, contributions=len(contributions)), now=now)
    try:
        key: bytes | None = crypto.member_key(session, member, settings)
    except KeyDestroyed:
        key = None
    plays = (
        pool_of(settings).member_table(member.pseudonym, key) if key is not None else POOL_SCHEMA.empty_table()
    ).sort_by([("start_utc", "ascending"), ("play_id", "ascending")])
    events = audit.events_about(session, member.id)
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    partial = out_zip.with_name(out_zip.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("plays.jsonl", "w") as fp:
            for batch in plays.to_batches(_BATCH):
                for row in batch.to_pylist():
                    fp.write(orjson.dumps(to_listen(row)) + b"\n")
        with archive.open("plays.parquet", "w") as fp:
            pq.write_table(plays, fp, compression="zstd")
        archive.writestr("contributions.json", _json([_contribution_record(session, c) for c in contributions]))
        archive.writestr(
            "audit.json",
            _json(
                [
                    {
                        "seq": e.seq,
                        "kind": e.kind,
                        "created_utc": e.created_utc,
                        "payload": orjson.loads(e.payload),
                        "hash": e.hash,
                    }
                    for e in events
                ]
            ),
        )
        archive.writestr("member.json", _json(_member_record(member, emails.email_of(session, settings, member))))
        archive.writestr("governance.json", _json(records.about(session, member)))
        archive.writestr("money.json", _json(_money_record(session, settings, member)))
    partial.replace(out_zip)
    return MemberExport(out_zip, plays.num_rows, len(contributions), len(events))
