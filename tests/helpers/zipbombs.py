"""Zips that unpack to far more than they weigh, built in a moment without compressing gigabytes.

Deflate restarts after a full flush, so a mebibyte of zeros compressed after one compresses to the same bytes
every time: a member of N MiB is that block written N times, plus a closing block. Its CRC-32 is computed the
way zlib's ``crc32_combine`` does (GF(2) matrices), so the members are honest: they unpack to exactly what the
zip's directory says, and a reader that went on would check out. ``lie_about_size`` then makes one whose
directory understates what it unpacks to.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

MIB = 1024**2
_ZEROS = bytes(MIB)
_compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
_BLOCK = _compressor.compress(_ZEROS) + _compressor.flush(zlib.Z_FULL_FLUSH)
_END = _compressor.flush(zlib.Z_FINISH)


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, matrix[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of A+B from those of A and B and B's length (zlib's algorithm)."""
    odd = [0xEDB88320] + [1 << n for n in range(31)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while len2:
        even = _gf2_square(odd)
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
    return crc1 ^ crc2


def _zeros_crc(mib: int) -> int:
    one = zlib.crc32(_ZEROS)
    crc, length, power, power_len, left = 0, 0, one, MIB, mib
    while left:
        if left & 1:
            crc = crc32_combine(crc, power, power_len) if length else power
            length += power_len
        power = crc32_combine(power, power, power_len)
        power_len *= 2
        left >>= 1
    return crc


def write_zero_bomb(path: Path, *, members: int, mib_each: int, name: str = "Streaming_History_{}.json") -> Path:
    """A zip of ``members`` deflated members of ``mib_each`` MiB of zeros each (under 4 GiB each: no Zip64)."""
    assert mib_each * MIB < 2**32
    data = _BLOCK * mib_each + _END
    crc = _zeros_crc(mib_each)
    size = mib_each * MIB
    central = b""
    with path.open("wb") as out:
        for n in range(members):
            filename = name.format(n).encode()
            offset = out.tell()
            out.write(
                struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size, len(filename), 0)
                + filename
            )
            out.write(data)
            central += (
                struct.pack(
                    "<4s6H3L5H2L",
                    b"PK\x01\x02",
                    20,
                    20,
                    0,
                    8,
                    0,
                    0,
                    crc,
                    len(data),
                    size,
                    len(filename),
                    0,
                    0,
                    0,
                    0,
                    0,
                    offset,
                )
                + filename
            )
        start = out.tell()
        out.write(central)
        out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, members, members, len(central), start, 0))
    return path


def lie_about_size(path: Path, declared: int) -> Path:
    """Rewrite every member's unpacked size, in its local header and the directory, to ``declared`` bytes."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x03\x04")
    while at != -1:
        struct.pack_into("<L", data, at + 22, declared)
        at = data.find(b"PK\x03\x04", at + 4)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        struct.pack_into("<L", data, at + 24, declared)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    return path
