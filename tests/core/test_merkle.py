"""RFC 9162 Merkle tree: known answers, every proof up to 64 leaves, and forged proofs refused.

The known-answer vectors are the standard test data of transparency-dev/merkle
(proof/verify_test.go), which carries over google/certificate-transparency's
merkle_tree_test.cc: eight leaves and the roots of their first 1..8 prefixes.
"""

from __future__ import annotations

import hashlib

import pytest

from xuncha_core.errors import IntegrityError
from xuncha_core.merkle import (
    EMPTY_ROOT,
    aligned_nodes,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    memory_subtree_hash,
    root,
    subtree_hash_from_nodes,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    bytes.fromhex(x)
    for x in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index 0-based, tree size, proof) from the same test data.
KNOWN_INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
KNOWN_CONSISTENCY = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip

HASHES = [leaf_hash(x) for x in LEAVES]
BIG = [leaf_hash(f"entry {i}".encode()) for i in range(64)]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def reference_mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.1 as written, recursively, to check the iterative code against."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + reference_mth(leaves[:k]) + reference_mth(leaves[k:])).digest()


def rejected(fn, *args) -> bool:  # type: ignore[no-untyped-def]
    try:
        fn(*args)
    except IntegrityError:
        return True
    return False


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_certificate_transparency_known_answers(size: int) -> None:
    assert root(HASHES[:size]).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "expected"), KNOWN_INCLUSION)
def test_inclusion_proofs_match_known_answers(index: int, size: int, expected: list[str]) -> None:
    proof = inclusion_proof(index, size, memory_subtree_hash(HASHES[:size]))
    assert [h.hex() for h in proof] == expected
    verify_inclusion(HASHES[index], index, size, proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("first", "second", "expected"), KNOWN_CONSISTENCY)
def test_consistency_proofs_match_known_answers(first: int, second: int, expected: list[str]) -> None:
    proof = consistency_proof(first, second, memory_subtree_hash(HASHES[:second]))
    assert [h.hex() for h in proof] == expected
    verify_consistency(first, second, proof, bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1]))


def test_iterative_root_equals_the_rfc_recursion_for_every_size_to_64() -> None:
    for n in range(65):
        assert root(BIG[:n]) == reference_mth(BIG[:n])


def test_subtree_hash_from_aligned_nodes_equals_the_rfc_definition() -> None:
    """Every prefix, and every subtree a proof uses, folds from complete aligned nodes."""

    def node(level: int, pos: int) -> bytes:
        return reference_mth(BIG[pos << level : (pos + 1) << level])

    for n in range(65):
        assert subtree_hash_from_nodes(0, n, node) == reference_mth(BIG[:n])
        assert len(aligned_nodes(0, n)) == n.bit_count()
    for start, end in [(8, 13), (32, 64), (48, 51), (60, 64), (16, 20)]:
        assert subtree_hash_from_nodes(start, end, node) == reference_mth(BIG[start:end])


def test_every_inclusion_proof_up_to_64_leaves_verifies() -> None:
    for size in range(1, 65):
        tree = memory_subtree_hash(BIG[:size])
        top = root(BIG[:size])
        for index in range(size):
            proof = inclusion_proof(index, size, tree)
            assert len(proof) <= (size - 1).bit_length()
            verify_inclusion(BIG[index], index, size, proof, top)


def test_every_consistency_proof_up_to_64_leaves_verifies() -> None:
    roots = [root(BIG[:n]) for n in range(65)]
    for second in range(0, 65):
        tree = memory_subtree_hash(BIG[:second])
        for first in range(0, second + 1):
            proof = consistency_proof(first, second, tree)
            verify_consistency(first, second, proof, roots[first], roots[second])


def _bits(size: int) -> range | list[int]:
    """Every one of the 256 bits for trees up to 16 leaves; one bit in every byte beyond (for time)."""
    return range(256) if size <= 16 else [8 * byte + byte % 8 for byte in range(32)]


def _flip(proof: list[bytes], i: int, bit: int) -> list[bytes]:
    forged = list(proof)
    h = bytearray(forged[i])
    h[bit // 8] ^= 1 << (bit % 8)
    forged[i] = bytes(h)
    return forged


def test_forged_inclusion_proofs_are_refused() -> None:
    """Each bit flipped, a hash removed or added, index ±1, size doubled or halved, the wrong leaf."""
    for size in range(1, 65):
        tree = memory_subtree_hash(BIG[:size])
        top = root(BIG[:size])
        for index in range(size):
            proof = inclusion_proof(index, size, tree)
            leaf = BIG[index]
            for i in range(len(proof)):
                for bit in _bits(size):
                    assert rejected(verify_inclusion, leaf, index, size, _flip(proof, i, bit), top)
            if proof:
                assert rejected(verify_inclusion, leaf, index, size, proof[:-1], top)
                assert rejected(verify_inclusion, leaf, index, size, proof[1:], top)
            assert rejected(verify_inclusion, leaf, index, size, [*proof, SOME_HASH], top)
            assert rejected(verify_inclusion, leaf, index, size, [SOME_HASH, *proof], top)
            assert rejected(verify_inclusion, leaf, index, size, [*proof, top], top)
            for other in (index - 1, index + 1):
                assert rejected(verify_inclusion, leaf, other, size, proof, top)
            assert rejected(verify_inclusion, leaf, index, size * 2, proof, top)
            if size > 1:
                assert rejected(verify_inclusion, leaf, index, size // 2, proof, top)
            for wrong in {BIG[(index + 1) % 64], SOME_HASH, leaf_hash(b"WrongLeaf")} - {leaf}:
                assert rejected(verify_inclusion, wrong, index, size, proof, top)
            assert rejected(verify_inclusion, leaf, index, size, proof, EMPTY_ROOT)


def test_forged_consistency_proofs_are_refused() -> None:
    roots = [root(BIG[:n]) for n in range(129)]
    for second in range(2, 65):
        tree = memory_subtree_hash(BIG[:second])
        for first in range(1, second):
            proof = consistency_proof(first, second, tree)
            r1, r2 = roots[first], roots[second]
            for i in range(len(proof)):
                for bit in _bits(second):
                    assert rejected(verify_consistency, first, second, _flip(proof, i, bit), r1, r2)
            assert rejected(verify_consistency, first, second, proof[:-1], r1, r2)
            assert rejected(verify_consistency, first, second, proof[1:], r1, r2)
            assert rejected(verify_consistency, first, second, [], r1, r2)
            for extra in (SOME_HASH, r1, r2, proof[0]):
                assert rejected(verify_consistency, first, second, [*proof, extra], r1, r2)
                assert rejected(verify_consistency, first, second, [extra, *proof], r1, r2)
            for f in (first - 1, first + 1):
                if 0 < f < second:
                    assert rejected(verify_consistency, f, second, proof, r1, r2)
            assert rejected(verify_consistency, first, second * 2, proof, r1, r2)
            assert rejected(verify_consistency, first, second // 2, proof, r1, r2)
            assert rejected(verify_consistency, first, second, proof, r2, r1)
            assert rejected(verify_consistency, first, second, proof, SOME_HASH, r2)
            assert rejected(verify_consistency, first, second, proof, r1, SOME_HASH)


def test_consistency_edge_cases_follow_the_rfc() -> None:
    r3 = root(BIG[:3])
    verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    verify_consistency(0, 3, [], EMPTY_ROOT, r3)
    verify_consistency(3, 3, [], r3, r3)
    assert rejected(verify_consistency, 3, 3, [], r3, root(BIG[:2]))  # a fork at equal size
    assert rejected(verify_consistency, 3, 3, [SOME_HASH], r3, r3)
    assert rejected(verify_consistency, 0, 3, [SOME_HASH], EMPTY_ROOT, r3)
    assert rejected(verify_consistency, 4, 3, [SOME_HASH], root(BIG[:4]), r3)  # a log never shrinks
    assert rejected(verify_consistency, 1, 2, [b"short"], BIG[0], root(BIG[:2]))


def test_inclusion_edge_cases_are_refused() -> None:
    verify_inclusion(BIG[0], 0, 1, [], BIG[0])
    assert rejected(verify_inclusion, BIG[0], 0, 0, [], EMPTY_ROOT)
    assert rejected(verify_inclusion, BIG[0], 1, 1, [], BIG[0])
    assert rejected(verify_inclusion, BIG[0], -1, 1, [], BIG[0])
    assert rejected(verify_inclusion, b"", 0, 1, [], BIG[0])
    assert rejected(verify_inclusion, BIG[0], 0, 2, [b""], root(BIG[:2]))


def test_a_refusal_says_what_failed() -> None:
    proof = inclusion_proof(3, 8, memory_subtree_hash(BIG[:8]))
    with pytest.raises(IntegrityError) as caught:
        verify_inclusion(BIG[3], 3, 8, proof[:-1], root(BIG[:8]))
    assert caught.value.code == "ledger.proof_invalid"
    assert "too few hashes" in caught.value.message
