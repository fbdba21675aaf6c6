"""Sealing in chunks: round trips at any size, memory that does not grow with it, old one-shot files still
open, and every way of cutting, reordering or splicing chunks is caught."""

from __future__ import annotations

import io
import os
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutti.coop import crypto
from tutti.coop.contributions import uploads
from tutti.coop.crypto import STREAM_CHUNK
from tutti.coop.errors import DecryptionFailed

HEADER = 8  # version byte and nonce prefix
SEALED_CHUNK = STREAM_CHUNK + 16


def _seal(key: bytes, data: bytes, writes: int = 1) -> bytes:
    out = io.BytesIO()
    stream = crypto.sealing(key, out)
    step = max(1, len(data) // writes)
    for at in range(0, len(data), step):
        stream.write(data[at : at + step])
    stream.close()
    return out.getvalue()


def _open(key: bytes, sealed: bytes) -> bytes:
    return b"".join(crypto.unsealing(key, io.BytesIO(sealed)))


def _chunks(sealed: bytes) -> list[bytes]:
    return [sealed[at : at + SEALED_CHUNK] for at in range(HEADER, len(sealed), SEALED_CHUNK)]


@settings(max_examples=25, deadline=None)
@given(
    size=st.sampled_from([0, 1, STREAM_CHUNK - 1, STREAM_CHUNK, STREAM_CHUNK + 1, 3 * STREAM_CHUNK]),
    writes=st.integers(1, 7),
)
def test_any_size_round_trips_whatever_the_writes(size: int, writes: int) -> None:
    key, data = crypto.new_data_key(), os.urandom(size)
    sealed = _seal(key, data, writes)
    assert _open(key, sealed) == data == crypto.decrypt_blob(key, sealed)
    assert len(_chunks(sealed)) == max(1, -(-size // STREAM_CHUNK))  # an empty file still has its final chunk


def test_a_file_sealed_whole_before_still_opens() -> None:
    key = crypto.new_data_key()
    old = crypto.encrypt_blob(key, b"plays sealed the old way")
    assert old[:1] == crypto.BLOB_VERSION
    assert _open(key, old) == b"plays sealed the old way"


@pytest.fixture(scope="module")
def four_chunks() -> tuple[bytes, bytes, bytes]:
    key = crypto.new_data_key()
    data = os.urandom(3 * STREAM_CHUNK + 1000)
    return key, data, _seal(key, data)


def _tampered(sealed: bytes, how: str, other: bytes) -> bytes:
    head, chunks = sealed[:HEADER], _chunks(sealed)
    if how == "last chunk dropped":
        return head + b"".join(chunks[:-1])
    if how == "cut inside a chunk":
        return sealed[: HEADER + SEALED_CHUNK + 100]
    if how == "two chunks swapped":
        return head + chunks[1] + chunks[0] + b"".join(chunks[2:])
    if how == "a chunk repeated":
        return head + chunks[0] + b"".join(chunks)
    if how == "a chunk from another file":
        return head + _chunks(other)[0] + b"".join(chunks[1:])
    if how == "header of another file":
        return other[:HEADER] + b"".join(chunks)
    if how == "version byte changed":
        return b"\x03" + sealed[1:]
    if how == "flipped bit":
        return sealed[:-1] + bytes([sealed[-1] ^ 1])
    if how == "only the header":
        return head
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        "last chunk dropped",
        "cut inside a chunk",
        "two chunks swapped",
        "a chunk repeated",
        "a chunk from another file",
        "header of another file",
        "version byte changed",
        "flipped bit",
        "only the header",
    ],
)
def test_tampering_is_detected(four_chunks: tuple[bytes, bytes, bytes], how: str) -> None:
    key, data, sealed = four_chunks
    other = _seal(key, data)  # the same plain bytes, sealed again under the same key
    assert _open(key, other) == data
    with pytest.raises(DecryptionFailed):
        _open(key, _tampered(sealed, how, other))


def test_the_wrong_key_opens_nothing(four_chunks: tuple[bytes, bytes, bytes]) -> None:
    _key, _data, sealed = four_chunks
    opened = crypto.unsealing(crypto.new_data_key(), io.BytesIO(sealed))
    with pytest.raises(DecryptionFailed, match="chunk 0"):
        next(opened)


def test_sealing_and_opening_an_upload_take_memory_independent_of_its_size(tmp_path: Path) -> None:
    export = tmp_path / "Streaming_History_Audio_2024.json"
    with export.open("wb") as out:
        for _ in range(64):
            out.write(os.urandom(1024**2))
    key = crypto.new_data_key()
    tracemalloc.start()
    try:
        sealed = uploads.seal([export], key, tmp_path / "sealed")
        sealing_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        opened = tmp_path / "opened"
        opened.mkdir()
        [back] = uploads.unseal(sealed.path, key, opened)
        opening_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # 64 MiB sealed and opened in a few chunks' worth of memory (the one-shot layout took 2-3 times the upload).
    assert sealing_peak < 8 * STREAM_CHUNK, sealing_peak
    assert opening_peak < 8 * STREAM_CHUNK, opening_peak
    assert back.read_bytes() == export.read_bytes() and sealed.size == export.stat().st_size
    assert list(opened.iterdir()) == [back]  # the unsealed pack is gone
    raw = sealed.path.read_bytes()
    assert raw[:1] == crypto.STREAM_VERSION and export.read_bytes()[:4096] not in raw


def test_an_upload_sealed_whole_before_still_unseals(tmp_path: Path) -> None:
    key = crypto.new_data_key()
    pack = io.BytesIO()
    with zipfile.ZipFile(pack, "w") as archive:
        archive.writestr("StreamingHistory0.json", b"[]")
    old = tmp_path / "old.upload"
    old.write_bytes(crypto.encrypt_blob(key, pack.getvalue()))
    folder = tmp_path / "opened"
    folder.mkdir()
    [opened] = uploads.unseal(old, key, folder)
    assert (opened.name, opened.read_bytes()) == ("StreamingHistory0.json", b"[]")
