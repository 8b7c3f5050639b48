"""Records: push one revision or a batch, list and read them, and review them."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response
from pydantic import BaseModel, Field

from server.accounts import access
from server.infra.db import read
from server.infra.deps import (
    ActorDep,
    ClockDep,
    EngineDep,
    FieldActor,
    GroupWriterDep,
    PullCursor,
    ReviewerActor,
)
from server.infra.schemas import error_responses, model_of
from server.records import intake, own_records, queries, reviews
from xuncha_core.receipts import BatchReceipts, RecordReceipt

router = APIRouter(prefix="/api/v1", tags=["records"], responses=error_responses(401, 403, 422))

RecordId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f-]+$")]
# Query filters: plain text only (PostgreSQL refuses NUL bytes in a string).
Filter = Annotated[str | None, Query(max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$")]


class Batch(BaseModel):
    records: list[Any] = Field(max_length=intake.MAX_BATCH)


class ReviewRequest(BaseModel):
    revision: int = Field(ge=1, le=2**31 - 1)
    action: str = Field(max_length=16, description="approve, send_back or reject")
    reason: str | None = Field(default=None, max_length=reviews.MAX_REASON)


@router.post(
    "/records",
    status_code=201,
    response_model=model_of(RecordReceipt),
    responses={200: {"model": model_of(RecordReceipt), "description": "An identical replay"}, **error_responses(409)},
)
async def push_record(
    envelope: Annotated[dict[str, Any], Body()], actor: FieldActor, writer: GroupWriterDep, response: Response
) -> RecordReceipt:
    """Push one record revision. 201 new; 200 an identical replay, answering the original receipt.

    The envelope is judged on its own here; the writer then stores it together with the
    other requests of the moment, and this answers only after that commit.
    """
    sub = intake.prepare(actor=actor, data=envelope)
    status, receipt = await asyncio.wrap_future(writer.submit(lambda conn: intake.store(conn, sub)))
    response.status_code = status
    return receipt


@router.post("/records/batch", response_model=model_of(BatchReceipts), response_model_exclude_unset=True)
def push_batch(batch: Batch, actor: FieldActor, writer: GroupWriterDep) -> BatchReceipts:
    """Push up to 200 revisions; each is judged alone, the accepted ones are stored together."""
    prepared = intake.prepare_batch(actor=actor, items=batch.records)
    return {"results": writer.run(lambda conn: intake.store_batch(conn, prepared))}


@router.get("/records")
def list_records(
    actor: ActorDep,
    engine: EngineDep,
    village_id: Filter = None,
    month: Filter = None,
    kind: Filter = None,
    review_state: Filter = None,
    author: Filter = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[str | None, Query(max_length=250, pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
) -> dict[str, Any]:
    """Record heads, newest change first; field roles see only their own. Page with ``after=next``."""
    if not access.reads_every_record(actor):
        if author not in (None, actor.username):
            raise access.record_forbidden()
        author = actor.username
    with read(engine) as conn:
        return queries.list_records(
            conn,
            author=author,
            village_id=village_id,
            month=month,
            kind=kind,
            review_state=review_state,
            limit=limit,
            after=after,
        )


@router.get("/sync/own-records", tags=["sync"])
def pull_own_records(
    actor: ActorDep,
    engine: EngineDep,
    clock: ClockDep,
    after: PullCursor = 0,
    limit: Annotated[int, Query(ge=1, le=own_records.MAX_LIMIT)] = own_records.DEFAULT_LIMIT,
    mine_since: Annotated[int | None, Query(ge=0, le=2**53)] = None,
) -> dict[str, Any]:
    """The caller's own records of the last 12 months (and older checks with open orders), each
    as its head revision with its receipt and reviews, by last change: ``{records, next, more}``.
    ``mine_since``: this device's own revisions from that ledger index on do not count."""
    with read(engine) as conn:
        return own_records.own_records(
            conn, username=actor.username, after=after, limit=limit, today=clock().date(),
            device_id=actor.device_id, mine_since=mine_since,
        )  # fmt: skip


@router.get("/records/{record_id}")
def get_record(record_id: RecordId, actor: ActorDep, engine: EngineDep) -> dict[str, Any]:
    """The head, every revision with its receipt, the reviews and the photos still missing."""
    with read(engine) as conn:
        return queries.get_record(conn, record_id=record_id, actor=actor)


@router.post("/records/{record_id}/reviews", status_code=201)
def review_record(
    record_id: RecordId, req: ReviewRequest, actor: ReviewerActor, writer: GroupWriterDep, response: Response
) -> dict[str, Any]:
    """Approve, send back or reject the head revision (a reason is required unless approving)."""
    status, review = writer.run(
        lambda conn: reviews.record_review(
            conn, record_id=record_id, revision=req.revision, action=req.action, reason=req.reason, reviewer=actor
        ),
    )
    response.status_code = status
    return review
