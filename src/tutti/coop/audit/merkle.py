"""A Merkle tree over the log's entries, as Certificate Transparency defines it (RFC 9162, section 2.1).

Leaves are the log's link hashes in order. ``root`` is the tree head of the first ``size`` leaves;
``inclusion_proof`` shows that one entry is in a tree of a given size, ``consistency_proof`` that a tree of a
larger size extends a smaller one unchanged (nothing removed, nothing rewritten). Verifying either needs only the
proof, the hashes and the sizes: a member holding one old checkpoint (size and root) can check any later one, and
one entry of theirs, without the whole log.

Hashes: ``leaf = SHA-256(0x00 || data)``, ``node = SHA-256(0x01 || left || right)``, the empty tree is
``SHA-256("")``; a tree of n > 1 leaves splits at the largest power of two below n. Pure functions over bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

Hash = bytes


def leaf_hash(data: bytes) -> Hash:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: Hash, right: Hash) -> Hash:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[Hash]) -> Hash:
    """The tree head of ``leaves`` (leaf hashes, in order)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    # Pairing left to right and carrying an odd last node up builds exactly the RFC's tree: its subtrees are
    # the complete power-of-two blocks from the left, the ragged right edge joining last.
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_proof(index: int, leaves: Sequence[Hash]) -> list[Hash]:
    """The audit path of leaf ``index`` in the tree of ``leaves`` (RFC 9162 2.1.3.1)."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), root(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), root(leaves[:k])]


def verify_inclusion(leaf: Hash, index: int, size: int, proof: Sequence[Hash], tree_root: Hash) -> bool:
    """Whether ``proof`` shows ``leaf`` at ``index`` in the tree of ``size`` leaves with head ``tree_root``."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == tree_root


def _subproof(m: int, leaves: Sequence[Hash], complete: bool) -> list[Hash]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), root(leaves[:k])]


def consistency_proof(first: int, leaves: Sequence[Hash]) -> list[Hash]:
    """The proof that the tree of ``leaves`` extends its first ``first`` leaves (RFC 9162 2.1.4.1)."""
    if not 0 <= first <= len(leaves):
        raise ValueError(f"a tree of {len(leaves)} has no prefix of {first}")
    if first in (0, len(leaves)):
        return []
    return _subproof(first, leaves, True)


def verify_consistency(first: int, second: int, first_root: Hash, second_root: Hash, proof: Sequence[Hash]) -> bool:
    """Whether ``proof`` shows the tree (``second``, ``second_root``) extends (``first``, ``first_root``)."""
    if first < 0 or first > second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof  # every tree extends the empty one
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
