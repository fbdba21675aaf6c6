"""Signed checkpoints of the log: its size and Merkle tree head, signed, in the C2SP transparency-log format.

A checkpoint is a *signed note* (C2SP ``signed-note``) whose body is a C2SP ``tlog-checkpoint``::

    <origin>
    <tree size, decimal>
    <tree head, base64>

    — <key name> <base64(key id || Ed25519 signature of the body)>

where the key id is the first four bytes of SHA-256(key name || "\\n" || 0x01 || public key). The verifier key
is written the way Go's ``golang.org/x/mod/sumdb/note`` writes one: ``<name>+<key id, 8 hex digits>+<base64(0x01
|| public key)>``. Formats other tools read mean a member can check a checkpoint with a tool that is not ours.

Why checkpoints: the hash chain and its per-entry signatures show that the entries a verifier sees are intact, but
not that none were cut off the end or that the whole log was not rewritten and signed again with a new key kept
in the same database. A checkpoint that left the database (given to members on their pages and receipts, written
to files beside the database that an operator can mirror elsewhere) pins the log's size and head at that moment:
any later log must extend it (a consistency proof), and must be signed by the key pinned outside the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tutti.coop.errors import InvalidInput

_ED25519 = b"\x01"
_SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space open each signature line


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


@dataclass(frozen=True)
class VerifierKey:
    """A log's public key with its name: what a verifier pins, outside the data it verifies."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return hashlib.sha256(self.name.encode() + b"\n" + _ED25519 + self.public_key).digest()[:4]

    def text(self) -> str:
        encoded = base64.b64encode(_ED25519 + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        try:
            name, key_id, encoded = text.strip().split("+", 2)  # names hold no "+"; base64 may
            raw = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise InvalidInput("not a log verifier key (expected NAME+KEYID+BASE64)") from None
        if raw[:1] != _ED25519 or len(raw) != 33:
            raise InvalidInput("the log verifier key is not an Ed25519 key")
        key = cls(name, raw[1:])
        if key.key_id.hex() != key_id.lower():
            raise InvalidInput("the log verifier key's id does not match its name and key")
        return key


def verifier_key(name: str, private: Ed25519PrivateKey) -> VerifierKey:
    return VerifierKey(name, private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def sign(checkpoint: Checkpoint, name: str, private: Ed25519PrivateKey) -> str:
    """The checkpoint as a signed note (text, ending in a newline)."""
    body = checkpoint.body()
    key = verifier_key(name, private)
    signature = base64.b64encode(key.key_id + private.sign(body.encode())).decode()
    return f"{body}\n{_SIGNATURE_PREFIX}{name} {signature}\n"


def parse(note: str) -> tuple[Checkpoint, list[tuple[str, bytes]]]:
    """The checkpoint of a signed note and its signatures (key name, key id + signature), unverified."""
    body, sep, signatures = note.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) < 3:
        raise InvalidInput("not a checkpoint: a signed note holds an origin, a size and a root, then signatures")
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error):
        raise InvalidInput("not a checkpoint: its size or root cannot be read") from None
    if size < 0 or len(root) != 32:
        raise InvalidInput("not a checkpoint: a size is not negative and a root has 32 bytes")
    found: list[tuple[str, bytes]] = []
    for line in signatures.splitlines():
        if not line.startswith(_SIGNATURE_PREFIX):
            continue
        name, _, encoded = line.removeprefix(_SIGNATURE_PREFIX).rpartition(" ")
        try:
            found.append((name, base64.b64decode(encoded, validate=True)))
        except binascii.Error:
            continue
    return Checkpoint(lines[0], size, root), found


def verify(note: str, key: VerifierKey) -> Checkpoint:
    """The checkpoint of ``note`` if ``key`` signed it; InvalidInput otherwise."""
    checkpoint, signatures = parse(note)
    public = Ed25519PublicKey.from_public_bytes(key.public_key)
    for name, raw in signatures:
        if name != key.name or raw[:4] != key.key_id:
            continue
        try:
            public.verify(raw[4:], checkpoint.body().encode())
        except InvalidSignature:
            continue
        return checkpoint
    raise InvalidInput(f"the checkpoint is not signed by the log key {key.name}+{key.key_id.hex()}")
