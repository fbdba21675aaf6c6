"""The verifiable log: Merkle proofs as RFC 9162 defines them, signed checkpoints, and verification that catches a
log cut short or rewritten, even one signed again with a new key kept in the same database."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.coop.conftest import CoopDb
from tutti.cli import app
from tutti.coop import audit
from tutti.coop._keywrap import wrap
from tutti.coop.audit import checkpoint, merkle, transparency
from tutti.coop.errors import InvalidInput
from tutti.coop.models import AuditEvent, Cooperative, LogCheckpoint
from tutti.log_client import LogServer
from tutti.web.app import create_app

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162's MTH, written as the RFC writes it (recursively), independently of ``merkle.root``."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def leaves_of(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_the_tree_heads_of_certificate_transparencys_test_data() -> None:
    # The eight leaves and the heads used by Certificate Transparency's reference tests (RFC 6962 data).
    data = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        bytes(range(0x50, 0x58)),
        bytes(range(0x60, 0x70)),
    ]
    leaves = [merkle.leaf_hash(d) for d in data]
    assert merkle.root(leaves[:1]).hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert merkle.root(leaves).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


@given(st.integers(0, 70))
def test_roots_are_the_rfcs(n: int) -> None:
    assert merkle.root(leaves_of(n)) == mth(leaves_of(n))


@given(st.integers(1, 70), st.data())
def test_every_entry_has_a_proof_and_a_wrong_one_fails(n: int, data: st.DataObject) -> None:
    leaves = leaves_of(n)
    head = merkle.root(leaves)
    index = data.draw(st.integers(0, n - 1))
    proof = merkle.inclusion_proof(index, leaves)
    assert merkle.verify_inclusion(leaves[index], index, n, proof, head)
    other = merkle.leaf_hash(b"not in the log")
    assert not merkle.verify_inclusion(other, index, n, proof, head)
    if n > 1:
        assert not merkle.verify_inclusion(leaves[index], (index + 1) % n, n, proof, head)
    if proof:
        spoiled = [*proof[:-1], hashlib.sha256(proof[-1]).digest()]
        assert not merkle.verify_inclusion(leaves[index], index, n, spoiled, head)


@given(st.integers(0, 70), st.data())
def test_a_larger_tree_proves_it_extends_a_smaller_one_and_a_changed_one_cannot(n: int, data: st.DataObject) -> None:
    leaves = leaves_of(n)
    m = data.draw(st.integers(0, n))
    proof = merkle.consistency_proof(m, leaves)
    assert merkle.verify_consistency(m, n, merkle.root(leaves[:m]), merkle.root(leaves), proof)
    if m > 0:
        # Change one old entry: the new tree no longer extends the old head.
        changed = list(leaves)
        changed[data.draw(st.integers(0, m - 1))] = merkle.leaf_hash(b"rewritten")
        new_proof = merkle.consistency_proof(m, changed)
        assert not merkle.verify_consistency(m, n, merkle.root(leaves[:m]), merkle.root(changed), new_proof)


def test_checkpoints_are_signed_notes_only_their_key_opens() -> None:
    private, stranger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    note = checkpoint.sign(checkpoint.Checkpoint("tutti-coop/x-1", 12, bytes(range(32))), "tutti-coop/x-1", private)
    lines = note.split("\n")
    assert lines[:3] == ["tutti-coop/x-1", "12", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="]
    assert lines[3] == "" and lines[4].startswith("\u2014 tutti-coop/x-1 ")
    key = checkpoint.verifier_key("tutti-coop/x-1", private)
    assert checkpoint.VerifierKey.parse(key.text()) == key
    assert checkpoint.verify(note, key).size == 12
    with pytest.raises(InvalidInput):
        checkpoint.verify(note, checkpoint.verifier_key("tutti-coop/x-1", stranger))
    with pytest.raises(InvalidInput):
        checkpoint.verify(note.replace("\n12\n", "\n13\n"), key)
    with pytest.raises(InvalidInput):
        checkpoint.VerifierKey.parse(key.text().replace("+", "+0", 1))


def _fill(db: CoopDb, events: int, start: int = 0) -> None:
    with db.sessions.begin() as session:
        for n in range(start, start + events):
            audit.record(
                session,
                audit.ContributionAccepted(member_id=f"m{n}", contribution_id=f"c{n}", plays_added=n, score=n),
                now=T0 + timedelta(seconds=n),
            )


def _resign(session: Session, signer: Ed25519PrivateKey, start: int) -> None:
    """Recompute hashes and signatures from entry ``start`` on, as whoever holds a signing key can."""
    prev = session.scalars(select(AuditEvent.hash).where(AuditEvent.seq == start - 1)).first() or "0" * 64
    for row in session.scalars(select(AuditEvent).where(AuditEvent.seq >= start).order_by(AuditEvent.seq)):
        row.prev_hash = prev
        row.hash = audit.link_hash(row.seq, row.kind, row.created_utc, row.member_id, row.payload, prev)
        row.signature = signer.sign(bytes.fromhex(row.hash))
        prev = row.hash
    session.execute(update(Cooperative).values(audit_head=prev))
    session.execute(delete(LogCheckpoint))


def _checkpoint(db: CoopDb) -> str:
    with db.sessions.begin() as session:
        return transparency.make_checkpoint(session, db.settings).note


def _verify(db: CoopDb, held: list[str]) -> transparency.LogVerification:
    with db.sessions() as session:
        return transparency.verify_log(session, transparency.pinned_verifier_key(db.settings.data_dir), held)


def test_an_untouched_log_verifies_with_the_key_pinned_at_founding(coop_db: CoopDb) -> None:
    pinned = transparency.verifier_key_path(coop_db.settings.data_dir)
    assert pinned.is_file()
    _fill(coop_db, 5)
    held = _checkpoint(coop_db)
    _fill(coop_db, 4, start=5)
    later = _checkpoint(coop_db)
    result = _verify(coop_db, [held, later])
    assert result.ok and result.entries == 10 and result.checkpoints >= 4
    files = sorted((coop_db.settings.data_dir / "log" / "checkpoints").iterdir())
    assert [f.read_text() for f in files][-2:] == [held, later]
    with coop_db.sessions() as session:
        # Each entry is in the tree its checkpoint signs.
        head = checkpoint.verify(later, transparency.pinned_verifier_key(coop_db.settings.data_dir))
        hashes = list(session.scalars(select(AuditEvent.hash).order_by(AuditEvent.seq)))
        for seq in (1, 6, 10):
            proof = transparency.inclusion_proof(session, seq, head.size)
            leaf = merkle.leaf_hash(bytes.fromhex(hashes[seq - 1]))
            assert merkle.verify_inclusion(leaf, seq - 1, head.size, proof, head.root)


def test_cutting_off_the_newest_entries_and_rewinding_the_head_is_caught(coop_db: CoopDb) -> None:
    _fill(coop_db, 8)
    held = _checkpoint(coop_db)
    with coop_db.sessions.begin() as session:
        keep = 6
        head = session.scalars(select(AuditEvent.hash).where(AuditEvent.seq == keep)).one()
        session.execute(delete(AuditEvent).where(AuditEvent.seq > keep))
        session.execute(delete(LogCheckpoint).where(LogCheckpoint.size > keep))
        session.execute(update(Cooperative).values(audit_seq=keep, audit_head=head))
    result = _verify(coop_db, [held])
    # The chain itself is intact: only the checkpoint held outside the database shows what went missing.
    assert [f.code for f in result.findings] == ["log-truncated"]


def test_an_operator_with_the_master_key_who_rewrites_an_entry_is_caught_by_a_held_checkpoint(coop_db: CoopDb) -> None:
    _fill(coop_db, 6)
    held = _checkpoint(coop_db)
    with coop_db.sessions.begin() as session:
        # Change entry 3 and sign everything from it on with the real key, as someone holding the master key could.
        row = session.scalars(select(AuditEvent).where(AuditEvent.seq == 3)).one()
        row.payload = row.payload.replace('"plays_added":1', '"plays_added":1000')
        _resign(session, transparency._signing_key(session, coop_db.settings), 3)
    result = _verify(coop_db, [held])
    assert [f.code for f in result.findings] == ["log-rewritten"]


def test_a_whole_log_rewritten_and_signed_with_a_new_key_in_the_database_is_caught(coop_db: CoopDb) -> None:
    _fill(coop_db, 4)
    with coop_db.sessions.begin() as session:
        new = Ed25519PrivateKey.generate()
        raw = new.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        session.execute(
            update(Cooperative).values(
                signing_public_key=new.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
                signing_key_wrapped=wrap(coop_db.settings.master_key, raw, b"tutti-coop signing key"),
            )
        )
        _resign(session, new, 1)
    with coop_db.sessions.begin() as session:
        # The rewriter also signs fresh checkpoints with the new key.
        transparency.make_checkpoint(session, coop_db.settings)
    codes = {f.code for f in _verify(coop_db, []).findings}
    assert {"signing-key-replaced", "chain-broken", "checkpoint-not-signed"} <= codes
    with coop_db.sessions() as session:
        # Trusting the key the database holds, everything would look fine: that is why the key is pinned.
        assert transparency.verify_log(session, transparency.database_verifier_key(session)).ok


def test_the_public_log_is_checked_from_outside_through_the_api(coop_db: CoopDb) -> None:
    _fill(coop_db, 5)
    held = _checkpoint(coop_db)
    _fill(coop_db, 3, start=5)
    _checkpoint(coop_db)
    key = transparency.pinned_verifier_key(coop_db.settings.data_dir)
    with TestClient(create_app(coop_db.settings, engine=coop_db.engine, admit_every=None)) as client:
        server = LogServer("http://testserver", client)
        latest = server.latest_checkpoint()
        full = transparency.verify_published(key, latest, [held], server.consistency, server.entries(9))
        assert full.ok and full.entries == 9, full.findings
        entries = client.get("/api/log/entries", params={"start": 1, "limit": 50}).json()
        assert [e["seq"] for e in entries] == list(range(1, 10))
        assert all("email" not in str(e).lower() for e in entries)
        # A server that cut its log and signs a smaller checkpoint cannot hide it from a member who kept one.
        with coop_db.sessions.begin() as session:
            session.execute(delete(AuditEvent).where(AuditEvent.seq > 3))
            session.execute(delete(LogCheckpoint))
            head = session.scalars(select(AuditEvent.hash).where(AuditEvent.seq == 3)).one()
            session.execute(update(Cooperative).values(audit_seq=3, audit_head=head))
        _checkpoint(coop_db)
        cut = transparency.verify_published(key, server.latest_checkpoint(), [held], server.consistency)
        assert [f.code for f in cut.findings] == ["log-truncated"]


def test_tutti_coop_log_verify_exits_1_when_the_log_is_not_what_was_signed(
    coop_db: CoopDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(coop_db, 3)
    held = tmp_path / "held.checkpoint"
    held.write_text(_checkpoint(coop_db))
    # An auditor's machine: the data folder with the pinned key and the database, no master key at all.
    monkeypatch.setenv("TUTTI_COOP_DIR", str(coop_db.settings.data_dir))
    monkeypatch.delenv("TUTTI_COOP_MASTER_KEY", raising=False)
    url = coop_db.engine.url.render_as_string(hide_password=False)
    if coop_db.kind == "postgresql":
        with coop_db.engine.connect() as connection:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        url += f"?options=-csearch_path%3D{schema}"
    args = ["coop", "log", "verify", "--database-url", url, "--checkpoint", str(held)]
    runner = CliRunner()
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    assert "the log verifies" in ok.output
    with coop_db.sessions.begin() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq > 2))
        head = session.scalars(select(AuditEvent.hash).where(AuditEvent.seq == 2)).one()
        session.execute(update(Cooperative).values(audit_seq=2, audit_head=head))
    bad = runner.invoke(app, args)
    assert bad.exit_code == 1
    assert "log-truncated" in bad.stderr and "does not verify" in bad.stderr
