"""RFC 9162 (Certificate Transparency v2, as RFC 6962) Merkle tree hashing and proofs.

    leaf hash  = SHA-256(0x00 || entry bytes)
    node hash  = SHA-256(0x01 || left || right)
    MTH({})    = SHA-256()                      (the empty tree)
    MTH(D[n])  = node hash(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n

Proof *generation* takes a function ``subtree_hash(start, end)`` that answers
MTH(D[start:end]), so the server can answer it from stored node hashes and a
client or auditor from leaves in memory. Every subtree an RFC 9162 proof uses
starts at a multiple of a power of two at least as large as itself, so it is
the right-fold of a few complete, aligned subtrees (``aligned_nodes``): that is
how the server answers any proof in O(log n) lookups.

Proof *verification* follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step.
``verify_inclusion`` and ``verify_consistency`` return None when the proof holds
and raise ``IntegrityError`` (code ``ledger.proof_invalid``) saying why when it
does not; they never return a boolean, so a forgotten check cannot pass silently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from xuncha_core.errors import IntegrityError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

SubtreeHash = Callable[[int, int], bytes]


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- roots -----------------------------------------------------------------


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the leaves whose hashes are given, in O(n) hashing and O(log n) memory."""
    # A stack of complete aligned subtrees (a compact range): merge equal heights as they close.
    stack: list[tuple[int, bytes]] = []
    for index, h in enumerate(leaf_hashes):
        height, current = 0, h
        while (index >> height) & 1:
            _, left = stack.pop()
            current = node_hash(left, current)
            height += 1
        stack.append((height, current))
    return fold_right([h for _, h in stack]) if stack else EMPTY_ROOT


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """Combine complete subtrees of decreasing size, left to right, into their RFC 9162 root."""
    current = hashes[-1]
    for left in reversed(hashes[:-1]):
        current = node_hash(left, current)
    return current


def aligned_nodes(start: int, end: int) -> list[tuple[int, int]]:
    """The complete aligned subtrees ``(level, pos)`` that tile leaves [start, end), left to right.

    Node (level, pos) covers leaves [pos * 2**level, (pos + 1) * 2**level). For a
    subtree as RFC 9162 proofs use them, ``fold_right`` of these nodes is its MTH.
    """
    nodes: list[tuple[int, int]] = []
    while start < end:
        level = (end - start).bit_length() - 1  # the largest that fits ...
        if start:
            level = min(level, (start & -start).bit_length() - 1)  # ... and stays aligned
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def subtree_hash_from_nodes(start: int, end: int, node: Callable[[int, int], bytes]) -> bytes:
    """MTH(D[start:end]) from complete aligned node hashes; ``node(level, pos)`` answers one."""
    if start == end:
        return EMPTY_ROOT
    return fold_right([node(level, pos) for level, pos in aligned_nodes(start, end)])


def memory_subtree_hash(leaf_hashes: Sequence[bytes]) -> SubtreeHash:
    """A ``subtree_hash`` over leaves held in memory (recomputes each subtree; for tests and tools)."""

    def subtree_hash(start: int, end: int) -> bytes:
        return root(leaf_hashes[start:end])

    return subtree_hash


# --- proof generation ------------------------------------------------------


def inclusion_subtrees(index: int, size: int) -> list[tuple[int, int]]:
    """The subtrees [start, end) whose hashes form PATH(index, D[size]), in proof order."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo = lo + k
    ranges.reverse()  # the recursion appends on the way back up: deepest sibling first
    return ranges


def consistency_subtrees(first: int, second: int) -> list[tuple[int, int]]:
    """The subtrees whose hashes form PROOF(first, D[second]) (RFC 9162 2.1.4.1), in proof order.

    Empty when ``first`` is 0 or equal to ``second``: nothing needs proving.
    """
    if not 0 <= first <= second:
        raise ValueError(f"a consistency proof needs 0 <= first <= second, got {first} and {second}")
    if first in (0, second):
        return []
    ranges: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, second, first, True
    while True:
        n = hi - lo
        if m == n:
            if not whole:
                ranges.append((lo, hi))
            break
        k = _split(n)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    ranges.reverse()
    return ranges


def inclusion_proof(index: int, size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """The RFC 9162 inclusion proof (audit path) for leaf ``index`` in the tree of ``size`` leaves."""
    return [subtree_hash(a, b) for a, b in inclusion_subtrees(index, size)]


def consistency_proof(first: int, second: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """The RFC 9162 consistency proof between the trees of ``first`` and ``second`` leaves."""
    return [subtree_hash(a, b) for a, b in consistency_subtrees(first, second)]


# --- proof verification ----------------------------------------------------


def _fail(message: str, **detail: object) -> IntegrityError:
    return IntegrityError(code="ledger.proof_invalid", message=message, detail=dict(detail))


def _check_hashes(what: str, hashes: Iterable[bytes]) -> None:
    for i, h in enumerate(hashes):
        if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
            raise _fail(f"{what}[{i}] is not a {HASH_SIZE}-byte SHA-256 hash")


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes) -> None:
    """Check that ``leaf`` (a leaf hash) is leaf ``index`` of the tree of ``size`` leaves with this root.

    RFC 9162 section 2.1.3.2. Raises IntegrityError if the proof does not hold.
    """
    _check_hashes("leaf hash", [leaf])
    _check_hashes("root hash", [root_hash])
    _check_hashes("proof", proof)
    if not 0 <= index < size:
        raise _fail(f"leaf index {index} is outside a tree of size {size}", index=index, size=size)
    fn, sn, r = index, size - 1, bytes(leaf)
    for p in proof:
        if sn == 0:
            raise _fail(f"the inclusion proof for leaf {index} in size {size} has too many hashes")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise _fail(f"the inclusion proof for leaf {index} in size {size} has too few hashes")
    if r != root_hash:
        raise _fail(
            f"leaf {index} is not in the tree of size {size} with root {root_hash.hex()}: "
            f"the proof leads to {r.hex()}",
            index=index,
            size=size,
        )


def verify_consistency(
    first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> None:
    """Check that the tree of ``first`` leaves is a prefix of the tree of ``second`` leaves.

    RFC 9162 section 2.1.4.2, with its edge cases made explicit: equal sizes need
    equal roots and an empty proof; ``first`` = 0 needs the empty-tree root and an
    empty proof. Raises IntegrityError if the proof does not hold.
    """
    _check_hashes("first root", [first_root])
    _check_hashes("second root", [second_root])
    _check_hashes("proof", proof)
    if not 0 <= first <= second:
        raise _fail(f"the first size {first} is larger than the second {second}: a log never shrinks")
    if first == second or first == 0:
        _check_trivial_consistency(first, second, proof, first_root, second_root)
        return
    if not proof:
        raise _fail(f"the consistency proof from {first} to {second} is empty")
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is itself a node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise _fail(f"the consistency proof from {first} to {second} has too many hashes")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise _fail(f"the consistency proof from {first} to {second} has too few hashes")
    if fr != first_root:
        raise _fail(
            f"the consistency proof does not lead to the root of size {first}: the log was rewritten",
            first=first,
            second=second,
        )
    if sr != second_root:
        raise _fail(
            f"the consistency proof does not lead to the root of size {second}",
            first=first,
            second=second,
        )


def _check_trivial_consistency(
    first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> None:
    """Equal sizes, or from the empty tree: no proof, and the roots say it all."""
    if first == second:
        if proof:
            raise _fail("trees of equal size need an empty consistency proof")
        if first_root != second_root:
            raise _fail(f"two different roots for the same size {first}: the log forked")
        return
    if proof:
        raise _fail("a consistency proof from the empty tree must be empty")
    if first_root != EMPTY_ROOT:
        raise _fail("the root given for size 0 is not the empty-tree hash")
