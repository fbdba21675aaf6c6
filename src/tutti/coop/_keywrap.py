"""Sealing keys under the master key (AES-256-GCM, the owner's identity as associated data), and the log's key.

Kept apart from ``crypto`` so that ``audit`` (which signs) and ``crypto`` (which records key destruction in the
audit log) do not import each other.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from tutti.coop.errors import DecryptionFailed

NONCE_BYTES = 12
SIGNING_KEY_CONTEXT = b"tutti-coop signing key"


def member_key_context(member_id: str) -> bytes:
    # Binding the member id means a wrapped key copied onto another member's row does not open.
    return b"tutti-coop member key\x00" + member_id.encode("ascii")


def release_key_context(release_id: str) -> bytes:
    # Bound to the release: a sealed key copied onto another release's row does not open.
    return b"tutti-coop release key\x00" + release_id.encode("ascii")


def wrap(master_key: bytes, secret: bytes, context: bytes) -> bytes:
    """``secret`` sealed under ``master_key``: nonce + ciphertext + tag, bound to ``context``."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master_key).encrypt(nonce, secret, context)


def unwrap(master_key: bytes, wrapped: bytes, context: bytes) -> bytes:
    try:
        return AESGCM(master_key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context)
    except InvalidTag:
        raise DecryptionFailed("a stored key does not open with this master key (is it the right one?)") from None


def new_signing_key(master_key: bytes) -> tuple[bytes, bytes]:
    """A fresh Ed25519 key for the audit log: (raw public key, private key wrapped under the master key)."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return public, wrap(master_key, raw, SIGNING_KEY_CONTEXT)


def load_signing_key(master_key: bytes, wrapped: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(unwrap(master_key, wrapped, SIGNING_KEY_CONTEXT))


def master_key_id(master_key: bytes) -> str:
    """A public name for a master key (16 hex digits of a keyed hash): which key a database expects, without the key."""
    return hmac.new(master_key, b"tutti-coop master key id", hashlib.sha256).hexdigest()[:16]
