"""Ledger storage on SQLite and PostgreSQL: proofs from stored nodes, contents kept beside the
leaves, and rows nobody can change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from server.infra.db import read
from server.ledger import contents, proofs, store
from tests.support.databases import write
from xuncha_core import ledger_entries
from xuncha_core.canonical import canonical_bytes
from xuncha_core.ledger_entries import NewEntry
from xuncha_core.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    memory_subtree_hash,
    root,
    verify_inclusion,
)


def _entry(i: int) -> NewEntry:
    return ledger_entries.reference_changed(
        topic="setting", key=f"k{i}", payload={"note": f"第 {i} 条"}, by="test", at="2025-05-01T08:00:00+00:00",
        salt=f"{i:032x}",
    )


def _leaf(entry: NewEntry) -> bytes:
    return leaf_hash(canonical_bytes(entry.committed))


def _fill(engine: Engine, n: int) -> list[bytes]:
    """Append n entries, some one by one and some in batches, as intake does."""
    i = 0
    while i < n:
        batch = [_entry(j) for j in range(i, min(n, i + (1 if i % 3 else 5)))]
        with write(engine) as conn:
            receipts = store.append_many(conn, batch)
        assert [r.index for r in receipts] == list(range(i, i + len(batch)))
        i += len(batch)
    return [_leaf(_entry(j)) for j in range(n)]


def test_empty_ledger_has_size_zero_and_the_empty_root(engine: Engine) -> None:
    with read(engine) as conn:
        assert store.size(conn) == 0
        assert proofs.root_at(conn, 0) == EMPTY_ROOT


def test_append_hashes_the_committed_form_and_keeps_the_content_beside_it(engine: Engine) -> None:
    revoked = ledger_entries.device_revoked(device_id="d-1", reason="手机丢失", by="admin", at="2025-05-01T08:00:00+00:00")
    with write(engine) as conn:
        first = store.append(conn, revoked)
        second = store.append(conn, _entry(2))
    assert first.index == 0 and second.index == 1
    text = f'{{"at":"2025-05-01T08:00:00+00:00","digest":"{revoked.committed["digest"]}","type":"device.revoked"}}'
    assert first.leaf_hash == leaf_hash(text.encode()).hex()
    with read(engine) as conn:
        stored = proofs.entry(conn, 0)
        kept = contents.read(conn, 0)
    assert stored is not None and stored.text == text
    assert kept is not None and kept.content == {"device_id": "d-1", "reason": "手机丢失", "by": "admin"}
    assert kept.salt == revoked.salt and len(kept.salt or "") == 32 and not kept.legacy
    ledger_entries.check_content(stored.text, kept.content, kept.salt)


def test_a_plain_dict_is_refused_so_nothing_is_published_by_mistake(engine: Engine) -> None:
    with pytest.raises(TypeError, match=r"xuncha_core\.ledger_entries"), write(engine) as conn:
        store.append(conn, {"type": "user.created", "username": "wang.cy"})  # type: ignore[arg-type]
    with read(engine) as conn:
        assert store.size(conn) == 0


def test_server_proofs_equal_the_in_memory_tree_for_every_size_to_40(engine: Engine) -> None:
    leaves = _fill(engine, 40)
    with read(engine) as conn:
        for size in range(41):
            assert proofs.root_at(conn, size) == root(leaves[:size])
            memory = memory_subtree_hash(leaves[:size])
            for index in range(size):
                assert proofs.inclusion_proof(conn, index, size) == inclusion_proof(index, size, memory)
            for first in range(size + 1):
                assert proofs.consistency_proof(conn, first, size) == consistency_proof(first, size, memory)


def test_a_rolled_back_append_leaves_no_trace(engine: Engine) -> None:
    leaves = _fill(engine, 5)
    with pytest.raises(RuntimeError), write(engine) as conn:
        store.append_many(conn, [_entry(100), _entry(101)])
        raise RuntimeError("the change this entry records failed")
    leaves += _fill_more(engine, 5, 3)
    with read(engine) as conn:
        assert store.size(conn) == 8
        assert proofs.root_at(conn, 8) == root(leaves)


def _fill_more(engine: Engine, start: int, n: int) -> list[bytes]:
    with write(engine) as conn:
        store.append_many(conn, [_entry(j) for j in range(start, start + n)])
    return [_leaf(_entry(j)) for j in range(start, start + n)]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET entry = '{}' WHERE idx = 0",
        "DELETE FROM ledger_entries WHERE idx = 0",
        "UPDATE ledger_nodes SET pos = pos + 100 WHERE level = 0",
        "DELETE FROM ledger_nodes",
        "UPDATE ledger_contents SET content = '{}' WHERE idx = 0",
        "UPDATE ledger_contents SET salt = NULL WHERE idx = 0",
        "DELETE FROM ledger_contents WHERE idx = 0",
    ],
)
def test_the_database_refuses_to_change_or_delete_ledger_rows(engine: Engine, statement: str) -> None:
    leaves = _fill(engine, 3)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), write(engine) as conn:
        conn.exec_driver_sql(statement)
    with read(engine) as conn:
        assert store.size(conn) == 3
        top = proofs.root_at(conn, 3)
        verify_inclusion(leaves[0], 0, 3, proofs.inclusion_proof(conn, 0, 3), top)
    assert top == root(leaves)


def test_emptying_a_ledger_table_whole_is_refused(engine: Engine) -> None:
    """TRUNCATE on PostgreSQL; on SQLite an unqualified DELETE (its truncate optimisation)."""
    _fill(engine, 2)
    for table in ("ledger_entries", "ledger_nodes", "ledger_contents"):
        statement = f"DELETE FROM {table}" if engine.dialect.name == "sqlite" else f"TRUNCATE {table}"
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), write(engine) as conn:
            conn.exec_driver_sql(statement)
    with read(engine) as conn:
        assert store.size(conn) == 2
        assert conn.execute(sa.text("SELECT count(*) FROM ledger_nodes")).scalar() == 3


def test_a_damaged_node_table_is_reported_not_silently_wrong(engine: Engine) -> None:
    _fill(engine, 4)
    with write(engine) as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER ledger_nodes_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE ledger_nodes DISABLE TRIGGER USER")
        conn.exec_driver_sql("DELETE FROM ledger_nodes WHERE level = 2")
    from xuncha_core.errors import IntegrityError

    with pytest.raises(IntegrityError, match="missing stored subtree"), read(engine) as conn:
        proofs.root_at(conn, 4)


def test_the_signing_key_is_created_once_private_and_never_replaced(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import stat

    from server.ledger.signing import load_or_create_key
    from xuncha_core.checkpoint import raw_public_key

    path = tmp_path / "data" / "ledger_signing_key.pem"
    first = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    written = path.read_bytes()
    again = load_or_create_key(path)
    assert path.read_bytes() == written
    assert raw_public_key(again.public_key()) == raw_public_key(first.public_key())
    assert sorted(p.name for p in path.parent.iterdir()) == ["ledger_signing_key.pem"]  # no temp file left
