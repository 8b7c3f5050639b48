"""The public ledger API: signed checkpoint, entries, inclusion and consistency proofs.

No sign-in: anyone may check the record. An entry is served in its committed form,
which names nobody (``xuncha_core.ledger_entries``); a legacy entry's text is
withheld (``entry`` null) while its leaf hash and proofs stay public. The content an
entry commits to is read at ``/entries/{index}/content`` by signing in
(``server.ledger.contents``). Hashes are lowercase hex; the checkpoint's signature and
public key are base64 (see ``xuncha_core.checkpoint`` for the signed bytes).

Handlers are ``async`` and hand their whole database read to the thread pool in
one hop: with sync dependencies each request hopped threads several times, and
that, not the O(log n) query, dominated a proof's latency.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

from server.accounts.accounts import Actor
from server.infra.db import read
from server.infra.deps import ActorDep
from server.infra.schemas import error_responses, model_of
from server.ledger import contents, proofs, shapes, signing, store
from xuncha_core.checkpoint import CheckpointJson
from xuncha_core.errors import BadRequestError, NotFoundError, XunchaError

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"], responses=error_responses(400, 404, 422))

Count = Annotated[int, Query(ge=0, le=2**62)]


def _size_error(name: str, value: int, size: int) -> XunchaError:
    return BadRequestError(
        "ledger.size_out_of_range",
        f"{name}={value} is larger than the ledger, which holds {size} entries; ask for a size up to {size}.",
        f"{name}={value} 超出账本大小（共 {size} 条），请使用不大于 {size} 的值。",
        {"name": name, "value": value, "ledger_size": size},
    )


@router.get("/checkpoint", response_model=model_of(CheckpointJson))
async def checkpoint(request: Request) -> CheckpointJson:
    """The current tree size and root, signed now with the server's Ed25519 key."""
    return await run_in_threadpool(_checkpoint, request.app.state.engine, request.app.state.signing_key)


Index = Annotated[int, Path(ge=0, le=2**62)]


@router.get("/entries/{index}", response_model=model_of(shapes.Entry))
async def entry(index: Index, request: Request) -> shapes.Entry:
    """One entry: the exact canonical JSON text that was hashed (its committed form; null for
    a legacy entry, whose text is withheld), and its leaf hash."""
    return await run_in_threadpool(_entry, request.app.state.engine, index)


@router.get("/entries/{index}/content", response_model=model_of(shapes.EntryContent))
async def entry_content(index: Index, actor: ActorDep, request: Request) -> shapes.EntryContent:
    """What the entry commits to, with its salt: for the read-all roles, and for a record's
    author the entries of her own records."""
    return await run_in_threadpool(_entry_content, request.app.state.engine, index, actor)


@router.get("/proof/inclusion", response_model=model_of(shapes.InclusionProof))
async def inclusion(index: Count, size: Count, request: Request) -> shapes.InclusionProof:
    """The RFC 9162 audit path of entry ``index`` in the tree of the first ``size`` entries."""
    return await run_in_threadpool(_inclusion, request.app.state.engine, index, size)


@router.get("/proof/consistency", response_model=model_of(shapes.ConsistencyProof))
async def consistency(first: Count, second: Count, request: Request) -> shapes.ConsistencyProof:
    """The RFC 9162 proof that the tree of ``first`` entries is a prefix of the tree of ``second``."""
    return await run_in_threadpool(_consistency, request.app.state.engine, first, second)


def _checkpoint(engine: Engine, key: Any) -> CheckpointJson:
    with read(engine) as conn:
        return signing.current_checkpoint(conn, key).as_dict()


def _not_found(conn: Any, index: int) -> XunchaError:
    size = store.size(conn)
    return NotFoundError(
        "ledger.entry_not_found",
        f"There is no ledger entry {index}; the ledger holds entries 0 to {size - 1}.",
        f"账本中没有第 {index} 条记录；现有记录编号为 0 至 {size - 1}。",
        {"index": index, "ledger_size": size},
    )


def _entry(engine: Engine, index: int) -> shapes.Entry:
    with read(engine) as conn:
        found = proofs.entry(conn, index)
        if found is None:
            raise _not_found(conn, index)
    return {"index": found.index, "entry": contents.public_text(found.text), "leaf_hash": found.leaf_hash.hex()}


def _entry_content(engine: Engine, index: int, actor: Actor) -> shapes.EntryContent:
    with read(engine) as conn:
        found = contents.read(conn, index)
        if found is None:
            raise _not_found(conn, index)
        contents.check_may_read(conn, actor, found)
    return found.as_dict()


def _inclusion(engine: Engine, index: int, size: int) -> shapes.InclusionProof:
    with read(engine) as conn:
        _check_size(conn, "size", size)
        if index >= size:
            raise BadRequestError(
                "ledger.index_out_of_range",
                f"Entry {index} is not in a tree of {size} entries; ask with a size larger than the index.",
                f"第 {index} 条不在大小为 {size} 的树中；size 必须大于 index。",
                {"index": index, "size": size},
            )
        hashes = proofs.inclusion_proof(conn, index, size)
    return {"index": index, "size": size, "hashes": [h.hex() for h in hashes]}


def _consistency(engine: Engine, first: int, second: int) -> shapes.ConsistencyProof:
    with read(engine) as conn:
        _check_size(conn, "second", second)
        if first > second:
            raise BadRequestError(
                "ledger.sizes_out_of_order",
                f"first={first} is larger than second={second}; a consistency proof goes from an older, smaller tree to a newer one.",
                f"first={first} 大于 second={second}；一致性证明须从较小的旧树到较大的新树。",
                {"first": first, "second": second},
            )
        hashes = proofs.consistency_proof(conn, first, second)
    return {"first": first, "second": second, "hashes": [h.hex() for h in hashes]}


def _check_size(conn: Connection, name: str, value: int) -> None:
    """Refuse a tree size past the ledger's end (400 ``ledger.size_out_of_range``)."""
    current = store.size(conn)
    if value > current:
        raise _size_error(name, value, current)
