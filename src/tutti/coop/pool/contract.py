"""The pool's contract: what a pool file holds and how it is sealed. Versioned; every reader and writer uses it.

**Schema** (``POOL_SCHEMA``, version ``POOL_SCHEMA_VERSION``): ``play_id`` (``tutti.identity``), then the columns
of ``tutti.model.PLAY_SCHEMA`` except ``DROPPED_COLUMNS`` (paths and positions inside the upload, raw device
text), then the name keys ``artist_key`` and ``track_key`` (``tutti.names``), computed when the file is written so
that no engine re-implements them. Nothing identifying is a column: importers never read IP addresses, user
agents, usernames or emails.

**Layout**: ``<data dir>/pool/member=<pseudonym>/part-<contribution id>.parquet``, one file per accepted
contribution, hive-partitioned by the member's pseudonym (128 random bits, never derived from an email).

**Sealing** (Parquet modular encryption, as pyarrow and parquet-mr implement it): every column is encrypted
(AES-GCM) with a data key of its own, the footer stays plain but signed (so row counts can be read without a key,
which is how an erasure is proved). Parquet's key tools wrap each file's data keys under a *master key* named by
the member's pseudonym (double wrapping: data keys under key-encryption keys, those under the master key). That
master key is the member's *pool key*::

    pool_key = HMAC-SHA256(key = member data key, message = b"tutti-coop pool key")        # 32 bytes

(a key of its own, so the member's data key never serves two purposes), and a key is wrapped as::

    wrapped = base64( nonce(12 random bytes) || AES-256-GCM(pool_key, nonce, key, aad = pseudonym as UTF-8) )

which is byte for byte the format of parquet-mr's ``KeyToolkit.encryptKeyLocally`` used by its in-memory KMS:
so any engine with Parquet's key tools (Spark among them) reads the files given the pool keys of the members it
may open, and nothing else. Destroying a member's data key shreds every copy of their files.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping

import duckdb
import pyarrow as pa
import pyarrow.parquet.encryption as pe
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tutti.identity import keyed_sql
from tutti.model import PLAY_SCHEMA
from tutti.names import KEY_COLUMNS, key_columns

POOL_SCHEMA_VERSION = 1
POOL_KEY_CONTEXT = b"tutti-coop pool key"
WRAP_NONCE_BYTES = 12

# Columns of PLAY_SCHEMA the pool never keeps: paths and positions inside the upload, raw device text, and the
# listener's UTC offset (it tells where they were, and no pooled query needs local time).
DROPPED_COLUMNS = ("source_file", "record_index", "platform_raw", "utc_offset_s")
POOL_PLAY_COLUMNS: tuple[str, ...] = tuple(n for n in PLAY_SCHEMA.names if n not in DROPPED_COLUMNS)
POOL_SCHEMA = pa.schema(
    [pa.field("play_id", pa.string(), nullable=False)]
    + [PLAY_SCHEMA.field(n) for n in POOL_PLAY_COLUMNS]
    + [pa.field(name, pa.string()) for name in KEY_COLUMNS],
    metadata={b"tutti.pool_schema_version": str(POOL_SCHEMA_VERSION).encode()},
)

_IDENTIFY_SQL = f"""
WITH keyed AS ({keyed_sql("upload")})
SELECT play_id, {", ".join(POOL_PLAY_COLUMNS)} FROM keyed
QUALIFY row_number() OVER (PARTITION BY play_id ORDER BY source_file, record_index) = 1
ORDER BY coalesce(start_utc, end_utc), play_id
"""


def play_identity(table: pa.Table) -> pa.Table:
    """The plays of an upload (``PLAY_SCHEMA``) as pool rows (``POOL_SCHEMA``), keyed like the local store keys
    them (play id and name keys), exact second-precision twins counted once."""
    con = duckdb.connect()
    try:
        con.register("upload", table)
        result = con.sql(_IDENTIFY_SQL).to_arrow_table()
    finally:
        con.close()
    artist_keys, track_keys = key_columns(result)
    return result.append_column(KEY_COLUMNS[0], artist_keys).append_column(KEY_COLUMNS[1], track_keys).cast(POOL_SCHEMA)


def pool_key(member_key: bytes) -> bytes:
    """The member's pool key (the Parquet master key of their files), derived from their data key."""
    return hmac.new(member_key, POOL_KEY_CONTEXT, hashlib.sha256).digest()


def wrap_key(pool_key_bytes: bytes, key: bytes, pseudonym: str, *, nonce: bytes | None = None) -> str:
    """``key`` wrapped under a pool key, in the layout the module docstring gives (``nonce`` for test vectors)."""
    nonce = nonce if nonce is not None else os.urandom(WRAP_NONCE_BYTES)
    sealed = AESGCM(pool_key_bytes).encrypt(nonce, key, pseudonym.encode())
    return base64.b64encode(nonce + sealed).decode("ascii")


def unwrap_key(pool_key_bytes: bytes, wrapped: str, pseudonym: str) -> bytes:
    """The key inside ``wrapped``; KeyError when the pool key is not the one it was wrapped with."""
    raw = base64.b64decode(wrapped)
    try:
        return AESGCM(pool_key_bytes).decrypt(raw[:WRAP_NONCE_BYTES], raw[WRAP_NONCE_BYTES:], pseudonym.encode())
    except InvalidTag:
        raise KeyError("this key does not open the member's pool files") from None


class MemberKeys(pe.KmsClient):  # type: ignore[misc]
    """Parquet's key client over the pool keys of the members given; a missing or wrong key opens nothing."""

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        super().__init__()
        self._keys = {pseudonym: pool_key(key) for pseudonym, key in keys.items()}

    def _key(self, pseudonym: str) -> bytes:
        key = self._keys.get(pseudonym)
        if key is None:
            raise KeyError("no key for this member's pool files (withdrawn?)")
        return key

    def wrap_key(self, key_bytes: bytes, master_key_identifier: str) -> str:
        return wrap_key(self._key(master_key_identifier), key_bytes, master_key_identifier)

    def unwrap_key(self, wrapped_key: str, master_key_identifier: str) -> bytes:
        return unwrap_key(self._key(master_key_identifier), wrapped_key, master_key_identifier)


def crypto_factory(keys: Mapping[str, bytes]) -> pe.CryptoFactory:
    """Parquet's crypto factory for the members whose data keys are given (pseudonym -> data key)."""
    return pe.CryptoFactory(lambda _config: MemberKeys(keys))


def encryption_properties(pseudonym: str, member_key: bytes) -> pe.FileEncryptionProperties:
    """How one member's pool file is sealed: every column and the footer signature under their pool key."""
    config = pe.EncryptionConfiguration(
        footer_key=pseudonym, column_keys={pseudonym: list(POOL_SCHEMA.names)}, plaintext_footer=True
    )
    return crypto_factory({pseudonym: member_key}).file_encryption_properties(pe.KmsConnectionConfig(), config)


def decryption_properties(keys: Mapping[str, bytes]) -> pe.FileDecryptionProperties:
    # A cache lifetime of zero seconds is refused; a fresh factory per read keeps no key beyond the call.
    return crypto_factory(keys).file_decryption_properties(pe.KmsConnectionConfig())
