"""The log made checkable from outside: a Merkle tree over its entries, signed checkpoints, proofs, verification.

The leaves of the tree (``tutti.coop.audit.merkle``) are the entries' link hashes in order. ``make_checkpoint``
signs the tree head with the log's key (``tutti.coop.audit.checkpoint``), keeps it in the database and writes it
to ``<data dir>/log/checkpoints/`` when the transaction commits, so copies exist outside the database (an operator
mirrors that folder elsewhere; members get checkpoints on their pages). The log's verifier key is pinned when the
cooperative is founded, in ``<data dir>/log/verifier.key``, and published: verification uses that key, never the
one the database holds, so a rewrite signed with a new key stored in the database is caught.

``verify_log`` checks everything a database holds against the pinned key and any checkpoints a verifier kept:
every link (hash, chain, signature), the recorded head, every checkpoint's signature and that the log still
extends it (a log shorter than a checkpoint was cut; a different tree head for the same size was rewritten).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop import staged
from tutti.coop._keywrap import load_signing_key
from tutti.coop.audit import checkpoint, merkle
from tutti.coop.audit.chain import check_links, verify_chain
from tutti.coop.errors import ConfigError, CoopError, InvalidInput, NotFound
from tutti.coop.models import AuditEvent, Cooperative, LogCheckpoint, utcnow
from tutti.coop.settings import CoopSettings

LOG_DIR = "log"
VERIFIER_KEY_FILE = "verifier.key"
CHECKPOINTS_DIR = "checkpoints"


def _cooperative(session: Session) -> Cooperative:
    coop = session.get(Cooperative, 1)
    if coop is None:
        raise CoopError("the cooperative is not set up yet: run `tutti coop init`")
    return coop


def key_name(session: Session) -> str:
    """The log's name (C2SP origin and key name): the cooperative's name made plain, and its key's first bytes.

    No spaces or "+", as the formats require; the key's bytes keep two cooperatives of one name apart.
    """
    coop = _cooperative(session)
    slug = re.sub(r"[^a-z0-9]+", "-", coop.name.lower()).strip("-") or "cooperative"
    return f"tutti-coop/{slug}-{coop.signing_public_key[:4].hex()}"


def database_verifier_key(session: Session) -> checkpoint.VerifierKey:
    """The verifier key the database claims; verification trusts the pinned one (``pinned_verifier_key``)."""
    return checkpoint.VerifierKey(key_name(session), _cooperative(session).signing_public_key)


def _signing_key(session: Session, settings: CoopSettings) -> Ed25519PrivateKey:
    return load_signing_key(settings.master_key, _cooperative(session).signing_key_wrapped)


def verifier_key_path(data_dir: Path) -> Path:
    """Where the log's verifier key is pinned: beside the database, in the cooperative's data folder."""
    return data_dir / LOG_DIR / VERIFIER_KEY_FILE


def pin_verifier_key(session: Session, settings: CoopSettings) -> checkpoint.VerifierKey:
    """Write the log's verifier key beside the database when the caller commits (once); ConfigError if another
    key is pinned there already."""
    key = database_verifier_key(session)
    path = verifier_key_path(settings.data_dir)
    if path.exists():
        pinned = checkpoint.VerifierKey.parse(path.read_text(encoding="utf-8"))
        if pinned != key:
            raise ConfigError(f"{path} pins another log key than this database's: the log cannot be trusted")
        return key
    text = key.text() + "\n"
    staged.write_on_commit(session, path, lambda to: to.write_text(text, encoding="utf-8"))
    return key


def pinned_verifier_key(data_dir: Path) -> checkpoint.VerifierKey:
    path = verifier_key_path(data_dir)
    if not path.exists():
        raise NotFound(f"no log verifier key is pinned at {path}: give one with --key")
    return checkpoint.VerifierKey.parse(path.read_text(encoding="utf-8"))


def size(session: Session) -> int:
    return int(_cooperative(session).audit_seq)


def leaves(session: Session, tree_size: int | None = None) -> list[bytes]:
    """The Merkle leaves of the first ``tree_size`` entries (all by default), in order."""
    query = select(AuditEvent.hash).order_by(AuditEvent.seq)
    if tree_size is not None:
        query = query.where(AuditEvent.seq <= tree_size)
    return [merkle.leaf_hash(bytes.fromhex(h)) for h in session.scalars(query)]


def _checked_size(session: Session, tree_size: int) -> int:
    if not 0 <= tree_size <= size(session):
        raise InvalidInput(f"the log holds {size(session)} entries, not {tree_size}")
    return tree_size


def latest_checkpoint(session: Session) -> LogCheckpoint | None:
    return session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1)).first()


def make_checkpoint(session: Session, settings: CoopSettings, *, now: datetime | None = None) -> LogCheckpoint:
    """A signed checkpoint of the log as it is (the latest one when the log has not grown since).

    Written to ``<data dir>/log/checkpoints/`` when the caller commits.
    """
    current = size(session)
    latest = latest_checkpoint(session)
    if latest is not None and latest.size == current:
        return latest
    head = merkle.root(leaves(session, current))
    name = key_name(session)
    note = checkpoint.sign(checkpoint.Checkpoint(name, current, head), name, _signing_key(session, settings))
    row = LogCheckpoint(size=current, root_hash=head.hex(), note=note, created_utc=now or utcnow())
    session.add(row)
    session.flush()
    target = settings.data_dir / LOG_DIR / CHECKPOINTS_DIR / f"{current:012d}.checkpoint"
    staged.write_on_commit(session, target, lambda to: to.write_text(note, encoding="utf-8"))
    return row


def inclusion_proof(session: Session, seq: int, tree_size: int) -> list[bytes]:
    """The proof that entry ``seq`` (from 1) is in the tree of the first ``tree_size`` entries."""
    tree = leaves(session, _checked_size(session, tree_size))
    if not 1 <= seq <= tree_size:
        raise InvalidInput(f"entry {seq} is not in a tree of {tree_size} entries")
    return merkle.inclusion_proof(seq - 1, tree)


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    """The proof that the tree of ``second`` entries extends the tree of ``first``."""
    if first > second:
        raise InvalidInput("a consistency proof goes from a smaller tree to a larger one")
    return merkle.consistency_proof(first, leaves(session, _checked_size(session, second)))


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the log: a code, the entry or checkpoint size it concerns, and a sentence."""

    code: str
    at: int | None
    detail: str


@dataclass
class LogVerification:
    entries: int = 0
    checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _check_checkpoint(
    note: str,
    key: checkpoint.VerifierKey,
    size_now: int,
    extends: Callable[[checkpoint.Checkpoint], bool],
    source: str,
    result: LogVerification,
) -> None:
    """Judge one checkpoint a verifier holds against the log as it is now (``size_now`` entries under ``key``'s
    name); ``extends(held)`` says whether today's tree still starts with the held one."""
    try:
        held = checkpoint.verify(note, key)
    except InvalidInput as exc:
        result.findings.append(Finding("checkpoint-not-signed", None, f"{source}: {exc}"))
        return
    result.checkpoints += 1
    if held.origin != key.name:
        result.findings.append(Finding("checkpoint-of-another-log", held.size, f"{source} is of {held.origin}"))
    elif held.size > size_now:
        result.findings.append(
            Finding("log-truncated", held.size, f"{source} has {held.size} entries; the log holds {size_now} now")
        )
    elif not extends(held):
        result.findings.append(
            Finding("log-rewritten", held.size, f"the first {held.size} entries are not those {source} signed")
        )


def verify_log(session: Session, key: checkpoint.VerifierKey, held: Sequence[str] = ()) -> LogVerification:
    """Check the whole log against the pinned ``key`` and the checkpoints a verifier ``held`` (signed notes)."""
    result = LogVerification(entries=size(session))
    if database_verifier_key(session) != key:
        result.findings.append(
            Finding("signing-key-replaced", None, "the database holds another log key than the pinned one")
        )
    intact, first_bad = verify_chain(session, public_key=key.public_key)
    if not intact:
        result.findings.append(
            Finding("chain-broken", first_bad, f"entry {first_bad} is altered, missing, out of place or not signed")
        )
    tree = leaves(session)

    def extends(old: checkpoint.Checkpoint) -> bool:
        return merkle.root(tree[: old.size]) == old.root

    for row in session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.size)):
        source = f"the checkpoint of size {row.size} in the database"
        _check_checkpoint(row.note, key, len(tree), extends, source, result)
    for number, note in enumerate(held, start=1):
        _check_checkpoint(note, key, len(tree), extends, f"held checkpoint {number}", result)
    return result


@dataclass(frozen=True)
class PublishedEntry:
    """An entry as the public log serves it (``payload`` is its canonical JSON text, as hashed)."""

    seq: int
    kind: str
    created_utc: datetime
    member_id: str | None
    payload: str
    prev_hash: str
    hash: str
    signature: bytes


def verify_published(
    key: checkpoint.VerifierKey,
    latest_note: str,
    held: Sequence[str],
    consistency: Callable[[int, int], list[bytes]],
    entries: Sequence[PublishedEntry] | None = None,
) -> LogVerification:
    """Check a log from what its server publishes: the latest checkpoint against the pinned ``key``; that it
    extends every checkpoint ``held`` (RFC 9162 consistency proofs fetched with ``consistency(first, second)``);
    and, given ``entries`` (all of them, in order), every link and that their tree head is the checkpoint's."""
    result = LogVerification()
    try:
        latest = checkpoint.verify(latest_note, key)
    except InvalidInput as exc:
        result.findings.append(Finding("checkpoint-not-signed", None, f"the server's latest checkpoint: {exc}"))
        return result
    result.entries, result.checkpoints = latest.size, 1

    def extends(old: checkpoint.Checkpoint) -> bool:
        proof = consistency(old.size, latest.size)
        return merkle.verify_consistency(old.size, latest.size, old.root, latest.root, proof)

    for number, note in enumerate(held, start=1):
        _check_checkpoint(note, key, latest.size, extends, f"held checkpoint {number}", result)
    if entries is not None:
        first_bad, _, seen = check_links(entries, key.public_key)
        if first_bad is not None:
            result.findings.append(Finding("chain-broken", first_bad, f"entry {first_bad} is altered or not signed"))
        elif (
            seen != latest.size
            or merkle.root([merkle.leaf_hash(bytes.fromhex(e.hash)) for e in entries]) != latest.root
        ):
            result.findings.append(
                Finding("entries-not-checkpointed", seen, "the entries served are not those the checkpoint signs")
            )
    return result
