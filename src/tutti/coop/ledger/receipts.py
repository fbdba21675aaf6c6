"""Receipts: for every payment or refund of a sale, each member learns whether they were included and why, their
weight and their share, and can prove offline that the cooperative committed to exactly that receipt.

At each transfer, every active member gets a receipt body (canonical JSON with a random salt, so no one can
confirm a guess of another member's receipt from the public tree). The bodies, ordered by account id, are the
leaves of a Merkle tree (RFC 9162 hashing, ``audit.merkle``) whose root goes into the public log as a
``receipts-issued`` entry. A receipt file (``receipt_file``) holds the body, its audit path in that tree, the log
entry, the entry's inclusion proof in a signed checkpoint and the checkpoint itself: ``verify_receipt`` checks all
of it with only the log's verifier key (``tutti coop log verify --receipt FILE``).

Why a member is or is not included: ``included``; ``opted-out`` of this sale; ``consent`` (their standing
preferences exclude its purpose or kind of data); ``not-a-member-at-close`` (joined after, or was waiting);
``not-in-release`` (included at close, but none of their data went into the sale's release).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tutti.coop import audit
from tutti.coop.audit import checkpoint, merkle, transparency
from tutti.coop.audit.chain import link_hash
from tutti.coop.errors import InvalidInput, NotFound
from tutti.coop.governance import consent, policy
from tutti.coop.ledger import accounts
from tutti.coop.ledger.transfers import book
from tutti.coop.models import (
    AuditEvent,
    LedgerTransfer,
    Member,
    Proposal,
    Role,
    SaleOptOut,
    ShareReceipt,
    Status,
)
from tutti.coop.settings import CoopSettings

RECEIPT_VERSION = 1
REASONS: dict[str, str] = {
    "included": "your data is in this sale",
    "opted-out": "you opted out of this sale",
    "consent": "your standing consent excludes this sale's purpose or kind of data",
    "not-a-member-at-close": "you were not an active member when its vote closed",
    "not-in-release": "you were included when its vote closed, but none of your data went into its release",
}


def _reason(member: Member, proposal: Proposal, included: set[str], opted_out: set[str], at_close: set[str]) -> str:
    if member.id in included:
        return "included"
    if member.id in at_close:
        return "not-in-release"
    if member.id in opted_out:
        return "opted-out"
    closed = proposal.closed_utc
    if member.activated_utc is None or closed is None or member.activated_utc > closed:
        return "not-a-member-at-close"
    return "consent"  # active at close, not opted out, yet not included: their preferences ruled it out


def leaf(body: str) -> bytes:
    return merkle.leaf_hash(hashlib.sha256(body.encode()).digest())


def issue(
    session: Session,
    transfer: LedgerTransfer,
    proposal: Proposal,
    included: set[str],
    weights: Mapping[str, int],
    shares: Mapping[str, int],
    fee: int,
    *,
    now: datetime,
    basis: str | None = None,
    total_weight: int | None = None,
) -> int:
    """Every active member's receipt for ``transfer``, their tree's root in the log; how many.

    ``included`` are the sale's members, ``weights`` what the amount was split by (with ``basis`` naming it:
    the policy's share basis for a payment; ``payment`` for a refund, split by what the payment gave each, of
    ``total_weight``, all it gave, the fee's part included)."""
    currency = book(session)
    assert currency is not None
    members = list(
        session.scalars(
            select(Member).where(Member.status == Status.ACTIVE, Member.role.in_([Role.MEMBER, Role.STEWARD]))
        )
    )
    account_of = accounts.of_members(session, [m.id for m in members], now=now)
    opted_out = set(session.scalars(select(SaleOptOut.member_id).where(SaleOptOut.proposal_id == proposal.id)))
    at_close = set(consent.included(session, proposal))
    total_weight = sum(weights.values()) if total_weight is None else total_weight
    basis = basis or policy.current(session).share_basis
    bodies: list[tuple[str, str]] = []
    for member in members:
        account_id = account_of[member.id]
        body = {
            "version": RECEIPT_VERSION,
            "proposal_id": proposal.id,
            "sale": proposal.title,
            "transfer_id": transfer.id,
            "transfer_kind": transfer.kind,
            "account": account_id,
            "currency": currency.currency,
            "minor_units": currency.minor_units,
            "amount": transfer.amount if transfer.kind == "payment" else -transfer.amount,
            "fee": fee,
            "reason": _reason(member, proposal, included, opted_out, at_close),
            "basis": basis,
            "weight": int(weights.get(member.id, 0)),
            "total_weight": total_weight,
            "share": int(shares.get(member.id, 0)),
            "issued_utc": now.astimezone(UTC).isoformat(timespec="seconds"),
            "salt": secrets.token_hex(16),
        }
        bodies.append((account_id, orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()))
    bodies.sort()
    root = merkle.root([leaf(text) for _, text in bodies])
    entry = audit.record(
        session,
        audit.ReceiptsIssued(
            transfer_id=transfer.id, proposal_id=proposal.id, receipts=len(bodies), receipts_root=root.hex()
        ),
        now=now,
    )
    session.execute(
        insert(ShareReceipt),
        [{"transfer_id": transfer.id, "account_id": a, "position": i, "body": text, "audit_seq": entry.seq}
         for i, (a, text) in enumerate(bodies)],
    )  # fmt: skip
    return len(bodies)


def of_member(session: Session, member_id: str) -> list[ShareReceipt]:
    """A member's receipts, newest first."""
    found = accounts.find(session, accounts.MEMBER, member_id)
    if found is None:
        return []
    return list(
        session.scalars(
            select(ShareReceipt).where(ShareReceipt.account_id == found.id).order_by(ShareReceipt.id.desc())
        )
    )


def body_of(receipt: ShareReceipt) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(receipt.body)
    return loaded


def receipt_file(session: Session, settings: CoopSettings, member_id: str, receipt_id: int) -> dict[str, Any]:
    """A member's receipt with everything needed to verify it offline (see the module docstring)."""
    mine = accounts.find(session, accounts.MEMBER, member_id)
    receipt = session.get(ShareReceipt, receipt_id)
    if receipt is None or mine is None or receipt.account_id != mine.id:
        raise NotFound("no such receipt")
    siblings = list(
        session.scalars(
            select(ShareReceipt.body)
            .where(ShareReceipt.transfer_id == receipt.transfer_id)
            .order_by(ShareReceipt.position)
        )
    )
    entry = session.get_one(AuditEvent, receipt.audit_seq)
    held = transparency.make_checkpoint(session, settings)
    proof = transparency.inclusion_proof(session, entry.seq, held.size)
    return {
        "receipt": receipt.body,
        "receipts_tree": {
            "position": receipt.position,
            "size": len(siblings),
            "proof": [h.hex() for h in merkle.inclusion_proof(receipt.position, [leaf(b) for b in siblings])],
        },
        "entry": {
            "seq": entry.seq,
            "kind": entry.kind,
            "created_utc": entry.created_utc.isoformat(timespec="microseconds"),
            "member_id": entry.member_id,
            "payload": entry.payload,
            "prev_hash": entry.prev_hash,
            "hash": entry.hash,
            "signature": base64.b64encode(entry.signature).decode(),
        },
        "inclusion": {"tree_size": held.size, "proof": [h.hex() for h in proof]},
        "checkpoint": held.note,
        "verifier_key": transparency.database_verifier_key(session).text(),
    }


@dataclass(frozen=True)
class VerifiedReceipt:
    body: dict[str, Any]
    log_size: int


def _hexes(values: object, name: str) -> list[bytes]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidInput(f"the receipt's {name} must be a list of hex hashes")
    try:
        return [bytes.fromhex(v) for v in values]
    except ValueError:
        raise InvalidInput(f"the receipt's {name} holds something that is not hex") from None


def verify_receipt(data: Mapping[str, Any], key: checkpoint.VerifierKey) -> VerifiedReceipt:
    """Check a receipt file offline against the log's verifier ``key``; InvalidInput naming what fails."""
    try:
        return _verify(data, key)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(f"not a receipt file: {type(exc).__name__} {exc}") from None


def _verify(data: Mapping[str, Any], key: checkpoint.VerifierKey) -> VerifiedReceipt:
    body, tree, entry, inclusion = data["receipt"], data["receipts_tree"], data["entry"], data["inclusion"]
    held = checkpoint.verify(str(data["checkpoint"]), key)
    created = datetime.fromisoformat(entry["created_utc"])
    seq, payload = int(entry["seq"]), str(entry["payload"])
    digest = link_hash(seq, str(entry["kind"]), created, entry["member_id"], payload, str(entry["prev_hash"]))
    signature = base64.b64decode(entry["signature"], validate=True)
    if digest != entry["hash"]:
        raise InvalidInput("the receipt's log entry is altered: its hash is not the hash of its contents")
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature, bytes.fromhex(digest))
    except InvalidSignature:
        raise InvalidInput("the receipt's log entry is not signed by the log's key") from None
    path = _hexes(inclusion["proof"], "inclusion proof")
    if int(inclusion["tree_size"]) != held.size or not merkle.verify_inclusion(
        merkle.leaf_hash(bytes.fromhex(digest)), seq - 1, held.size, path, held.root
    ):
        raise InvalidInput("the receipt's log entry is not in the log the checkpoint signs")
    if entry["kind"] != audit.ReceiptsIssued.kind:
        raise InvalidInput("the receipt's log entry does not issue receipts")
    logged = orjson.loads(payload)
    audit_path = _hexes(tree["proof"], "receipts proof")
    position, size = int(tree["position"]), int(tree["size"])
    root = bytes.fromhex(logged["receipts_root"])
    if not isinstance(body, str) or size != logged["receipts"]:
        raise InvalidInput("the receipt is not among those the log entry signs")
    if not merkle.verify_inclusion(leaf(body), position, size, audit_path, root):
        raise InvalidInput("the receipt is not among those the log entry signs")
    parsed: dict[str, Any] = orjson.loads(body)
    if parsed.get("transfer_id") != logged["transfer_id"]:
        raise InvalidInput("the receipt names another transfer than its log entry")
    return VerifiedReceipt(parsed, held.size)
