"""Review decisions and comments from the record page: the API's own review service, behind a form.

Approve, send back (a reason is required: the author sees it after her next sync), reject
(with a reason), or comment (kept on record, changes nothing). Each is a ledger entry,
written by ``reviews.record_review`` exactly as for the API; the legal-review order of
``xuncha_core.review_flow`` is judged there.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from server.console import web
from server.infra.writer import write
from server.records import reviews
from xuncha_core.errors import ValidationError

router = APIRouter(prefix="/console", include_in_schema=False)
RecordId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f-]+$")]


@router.post("/records/{record_id}/review")
def review(
    request: Request, session: web.Reviewer,
    record_id: RecordId,
    form: web.FormDep,
) -> Response:
    action = web.field(form, "action", 16)
    reason = web.field(form, "reason", reviews.MAX_REASON) or None
    try:
        revision = int(web.field(form, "revision", 12))
    except ValueError:
        raise ValidationError("console.bad_form", "The form is incomplete; open the record again.", "表单不完整，请重新打开该记录。") from None
    write(
        request.app.state.engine,
        lambda conn: reviews.record_review(
            conn, record_id=record_id, revision=revision, action=action, reason=reason, reviewer=session.actor
        ),
    )
    return web.redirect(f"/console/records/{record_id}?done={action}")
