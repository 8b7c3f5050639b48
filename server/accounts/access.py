"""Who may do what to which row: codes for whom, which records and photos, what a refusal shows.

The route dependencies (``server.infra.deps``) let a role through to a route; the functions
here decide by the row, and each is called before anything about the row is compared,
stored or echoed, so a refusal tells the caller nothing the caller may not know.

    enrollment codes   ``code_target``          an office reviewer issues them for field staff only,
                                                an admin for any account; nobody for their own
    records            ``may_read_record``      the author, or a role that reads every record
                       ``check_record_writer``  only the author sends revisions (and sees the
                                                server's version in a conflict)
    photos             ``may_read_photo``       a role that reads every record; the uploader; or
                                                whoever may read a record citing the photo that
                                                its author uploaded. A citation alone grants
                                                nothing: photo hashes are public in the ledger,
                                                anyone can cite one, only a holder can upload it.

The role groups live here too (``server.accounts.accounts`` names the roles and re-exports them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, and_, exists, select, true

from server.infra import tables as t
from xuncha_core.errors import ForbiddenError, NotFoundError, XunchaError

if TYPE_CHECKING:
    from server.accounts.accounts import Actor

FIELD_ROLES = ("supervisor", "officer")
READ_ALL_ROLES = ("office_reviewer", "legal_reviewer", "admin", "auditor")


# -- enrollment codes ------------------------------------------------------------------


def code_target(conn: Connection, *, issuer: Actor | None, username: str) -> Any:
    """The active user an enrollment code may be issued for, by ``issuer`` (None: the server's CLI).

    Refused (403 ``enrollment_code.forbidden``) before anything is written: for oneself; by
    an office reviewer for anyone but an active supervisor or officer, answered the same
    whether the account exists or not; by any other role but admin. An admin (or the CLI)
    is told 404 ``user.not_found`` for an unknown or disabled account.
    """
    if issuer is not None and username == issuer.username:
        raise _code_refused(
            "Nobody may issue an enrollment code for their own account: ask an administrator to issue it.",
            "不能为自己的账号签发注册码，请由管理员签发。",
            "own_account",
        )
    user = conn.execute(select(t.users).where(t.users.c.username == username)).first()
    active = user is not None and bool(user.active)
    if issuer is None or issuer.role == "admin":
        if user is None or not active:
            raise NotFoundError("user.not_found", f"No active user {username!r}.", f"没有启用的用户 {username}。")
        return user
    if issuer.role == "office_reviewer" and user is not None and active and user.role in FIELD_ROLES:
        return user
    raise _code_refused(
        f"You may issue enrollment codes only for the active accounts of supervisors and officers, "
        f"and {username!r} is not one. Check the username, or ask an administrator to issue this code.",
        f"您只能为保洁队长和执法人员的有效账号签发注册码，{username} 不在其列。请核对用户名，或请管理员签发。",
        "not_field_staff",
    )


def _code_refused(message: str, message_zh: str, reason: str) -> XunchaError:
    return ForbiddenError("enrollment_code.forbidden", message, message_zh, {"reason": reason})


# -- records ---------------------------------------------------------------------------


def reads_every_record(actor: Actor) -> bool:
    return actor.role in READ_ALL_ROLES


def may_read_record(actor: Actor, *, author: str) -> bool:
    """Whether ``actor`` may see a record (every revision, its reviews) by ``author``."""
    return reads_every_record(actor) or author == actor.username


def readable_records(actor: Actor, author: ColumnElement[Any]) -> ColumnElement[bool]:
    """``may_read_record`` as a SQL condition on a record's author column."""
    return true() if reads_every_record(actor) else author == actor.username


def record_forbidden() -> XunchaError:
    return ForbiddenError("record.forbidden", "You may see only the records you made.", "您只能查看自己制作的记录。")


def check_record_writer(*, author: str, head_author: str) -> None:
    """Only a record's author sends revisions of it: 403 ``record.not_author`` otherwise.

    Judged before the revision is compared with what the server holds, so the refusal
    carries nothing of the other author's record (no envelope, no head revision).
    """
    if author != head_author:
        raise ForbiddenError(
            "record.not_author",
            "This record id belongs to a record someone else made; only its author may send revisions of it. "
            "Send your own records under their own ids.",
            "该记录编号属于他人制作的记录，只有记录的作者可以提交新版本。请用您自己记录的编号提交。",
        )


# -- photos ----------------------------------------------------------------------------


def may_read_photo(conn: Connection, *, actor: Actor, sha256: str) -> bool:
    """Whether ``actor`` may see the photo (see the module doc); False for an unknown photo,
    except to a role that reads every record (who is then told it is not there)."""
    if reads_every_record(actor):
        return True
    p, rp, rv = t.photos, t.record_photos, t.record_revisions
    uploaded = select(p.c.sha256).where(p.c.sha256 == sha256, p.c.uploaded_by == actor.username)
    # Today a field user reads only her own records, so this adds nothing to "she uploaded
    # it"; it is here so that photos keep following records if who reads which changes.
    cited_by_its_uploader = (
        select(rp.c.sha256)
        .join(rv, and_(rv.c.record_id == rp.c.record_id, rv.c.revision == rp.c.revision))
        .join(p, and_(p.c.sha256 == rp.c.sha256, p.c.uploaded_by == rv.c.author))
        .where(rp.c.sha256 == sha256, readable_records(actor, rv.c.author))
    )
    return bool(conn.execute(select(exists(uploaded) | exists(cited_by_its_uploader))).scalar())


def photo_receipt_for(actor: Actor, receipt: Mapping[str, Any]) -> dict[str, Any]:
    """A photo receipt as ``actor`` may see it: who uploaded the photo only to the uploader
    and to roles that read every record (a second phone sending the same photo learns that
    it is kept, and its ledger entry, but not whose it is)."""
    uploader = receipt.get("uploaded_by")
    if uploader is None or uploader == actor.username or reads_every_record(actor):
        return dict(receipt)
    return {k: v for k, v in receipt.items() if k != "uploaded_by"}


def photo_forbidden() -> XunchaError:
    return ForbiddenError(
        "photo.forbidden",
        "You may see a photo only if you uploaded it, or may read a record that cites it and whose author uploaded it.",
        "只有照片的上传者，或有权查看引用该照片且由作者本人上传的记录的人，才能查看这张照片。",
    )
