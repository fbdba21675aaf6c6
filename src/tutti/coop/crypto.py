"""Members' data keys: each member's blobs are sealed with their own AES-256-GCM key, stored wrapped by the
server master key. Destroying that wrapped key makes every blob of the member unreadable, wherever copies are.

Two layouts, told apart by their first byte:

- version 1, one-shot (small blobs, and every file sealed before version 2): a 12-byte nonce, then ciphertext
  and tag. Sealing and opening hold the whole file in memory, two or three times over.
- version 2, streamed (uploads, which can be hundreds of MiB): a 7-byte random prefix, then the plain bytes in
  chunks of ``STREAM_CHUNK`` bytes, each sealed on its own with AES-256-GCM under the nonce prefix + chunk
  index (4 bytes) + final flag (1 byte), as in the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizar,
  2015). Memory stays at one chunk whatever the size. Reordered or dropped chunks fail (the index is in the
  nonce), and so does a file cut at a chunk boundary (its last chunk was not sealed as final); the version and
  prefix are associated data of every chunk.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from datetime import datetime
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop import audit
from tutti.coop._keywrap import NONCE_BYTES, load_signing_key, member_key_context, new_signing_key, unwrap, wrap
from tutti.coop.errors import DecryptionFailed, KeyDestroyed
from tutti.coop.models import Member, MemberKey, utcnow
from tutti.coop.settings import CoopSettings

__all__ = [
    "decrypt_blob",
    "destroy_member_key",
    "encrypt_blob",
    "key_destroyed",
    "load_signing_key",
    "member_key",
    "new_data_key",
    "new_signing_key",
    "sealing",
    "unsealing",
]

BLOB_VERSION = b"\x01"
BLOB_CONTEXT = b"tutti-coop blob v1"
STREAM_VERSION = b"\x02"
STREAM_CONTEXT = b"tutti-coop stream v2"
STREAM_CHUNK = 1024**2
_PREFIX_BYTES = 7
_TAG_BYTES = 16


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def encrypt_blob(member_key: bytes, data: bytes) -> bytes:
    """``data`` sealed with the member's key (a fresh nonce each time)."""
    nonce = os.urandom(NONCE_BYTES)
    return BLOB_VERSION + nonce + AESGCM(member_key).encrypt(nonce, data, BLOB_CONTEXT)


def decrypt_blob(member_key: bytes, blob: bytes) -> bytes:
    """The plain bytes of a blob (either layout); DecryptionFailed for the wrong key, altered bytes or an
    unknown layout."""
    if blob[:1] == STREAM_VERSION:
        return b"".join(unsealing(member_key, io.BytesIO(blob)))
    if blob[:1] != BLOB_VERSION or len(blob) < 1 + NONCE_BYTES + 16:
        raise DecryptionFailed("not a blob sealed by this cooperative")
    try:
        return AESGCM(member_key).decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], BLOB_CONTEXT)
    except InvalidTag:
        raise DecryptionFailed(
            "the blob does not open with this key (wrong member, destroyed key or altered bytes)"
        ) from None


def _chunk_nonce(prefix: bytes, index: int, final: bool) -> bytes:
    return prefix + struct.pack(">IB", index, 1 if final else 0)


class SealingWriter:
    """A write-only stream that seals what is written to ``out`` in chunks (layout version 2); ``close`` seals
    the final chunk (possibly empty) and must be called, or the file does not open."""

    def __init__(self, member_key: bytes, out: IO[bytes]) -> None:
        self._aead = AESGCM(member_key)
        self._out = out
        self._prefix = os.urandom(_PREFIX_BYTES)
        self._header = STREAM_VERSION + self._prefix
        self._buffer = bytearray()
        self._index = 0
        self.closed = False
        out.write(self._header)

    def _seal(self, plain: bytes, final: bool) -> None:
        if self._index >= 2**32 - 1:
            raise ValueError("too many chunks for one sealed stream")
        nonce = _chunk_nonce(self._prefix, self._index, final)
        self._out.write(self._aead.encrypt(nonce, plain, STREAM_CONTEXT + self._header))
        self._index += 1

    def write(self, data: bytes) -> int:
        if self.closed:
            raise ValueError("write to a closed sealing stream")
        self._buffer += data
        # A full chunk is sealed only once more follows: the last one must be sealed as final.
        while len(self._buffer) > STREAM_CHUNK:
            self._seal(bytes(self._buffer[:STREAM_CHUNK]), final=False)
            del self._buffer[:STREAM_CHUNK]
        return len(data)

    def flush(self) -> None:
        self._out.flush()

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), final=True)
            self._buffer.clear()
            self.closed = True
            self._out.flush()


def sealing(member_key: bytes, out: IO[bytes]) -> SealingWriter:
    """A stream sealing what is written to it into ``out``, chunk by chunk; close it to finish the file."""
    return SealingWriter(member_key, out)


def _read_exactly(fp: IO[bytes], n: int) -> bytes:
    parts, left = [], n
    while left and (part := fp.read(left)):
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def unsealing(member_key: bytes, fp: IO[bytes]) -> Iterator[bytes]:
    """The plain bytes of a sealed file, a chunk at a time; DecryptionFailed (before any chunk that does not
    open is handed out) for the wrong key, altered, reordered or missing chunks, or an unknown layout. A
    version 1 file is opened whole, as one chunk."""
    version = fp.read(1)
    if version == BLOB_VERSION:
        yield decrypt_blob(member_key, version + fp.read())
        return
    prefix = _read_exactly(fp, _PREFIX_BYTES)
    if version != STREAM_VERSION or len(prefix) != _PREFIX_BYTES:
        raise DecryptionFailed("not a file sealed by this cooperative")
    aead, header, size = AESGCM(member_key), version + prefix, STREAM_CHUNK + _TAG_BYTES
    block, index = _read_exactly(fp, size), 0
    while True:
        following = _read_exactly(fp, size)
        final = not following
        try:
            yield aead.decrypt(_chunk_nonce(prefix, index, final), block, STREAM_CONTEXT + header)
        except InvalidTag:
            raise DecryptionFailed(
                f"chunk {index} of the sealed file does not open (wrong member, destroyed key, or the file was "
                "altered, cut short or reordered)"
            ) from None
        if final:
            return
        block, index = following, index + 1


def member_key(session: Session, member: Member, settings: CoopSettings, *, now: datetime | None = None) -> bytes:
    """The member's data key, unwrapped; made on first use. KeyDestroyed once it was destroyed."""
    row = session.scalars(select(MemberKey).where(MemberKey.member_id == member.id)).one_or_none()
    if row is None:
        key = new_data_key()
        session.add(
            MemberKey(
                member_id=member.id,
                wrapped_key=wrap(settings.master_key, key, member_key_context(member.id)),
                created_utc=now or utcnow(),
            )
        )
        session.flush()
        return key
    if row.wrapped_key is None or row.destroyed_utc is not None:
        raise KeyDestroyed("this member's data key was destroyed; their data cannot be read any more")
    return unwrap(settings.master_key, row.wrapped_key, member_key_context(member.id))


def key_destroyed(session: Session, member: Member) -> bool:
    """Whether the member's data key was destroyed (their sealed data is then unreadable everywhere)."""
    row = session.scalars(select(MemberKey).where(MemberKey.member_id == member.id)).one_or_none()
    return row is not None and row.wrapped_key is None and row.destroyed_utc is not None


def destroy_member_key(session: Session, member: Member, *, now: datetime | None = None) -> None:
    """Wipe the member's wrapped key for good (recording when, and the event in the audit log).

    A member who never had a key gets a destroyed marker, so no key can be made for them afterwards.
    """
    when = now or utcnow()
    row = session.scalars(select(MemberKey).where(MemberKey.member_id == member.id)).one_or_none()
    if row is None:
        row = MemberKey(member_id=member.id, wrapped_key=None, created_utc=when)
        session.add(row)
    elif row.destroyed_utc is not None:
        return
    row.wrapped_key = None
    row.destroyed_utc = when
    session.flush()
    audit.record(session, audit.KeyDestroyed(member_id=member.id), now=when)
