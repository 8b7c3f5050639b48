"""Who may decide what on a record, and in which order: review, then legal review (法制审核).

A record's review state moves only along these steps::

    submitted ──office approve──▶ approved            (an ordinary record)
    submitted ──office approve──▶ legal_review        (a major enforcement decision)
    legal_review ──legal approve (sign-off)──▶ approved
    submitted | legal_review ──send_back──▶ sent_back  (the author corrects it: a new revision
    submitted | legal_review ──reject─────▶ rejected    is submitted again)

The office reviewer decides first; a major decision takes effect only once a legal
reviewer has signed it off, and a legal reviewer acts only on what is waiting for
legal review, never on a record the office has not judged or has already finished
(the hole this closes: a legal reviewer could reject a record the moment after the
office approved it, with nothing between). A comment changes nothing and may be
made on any record by either reviewer.

A *major* enforcement decision (重大执法决定) is an inspection result that found
something wrong (any result but ``NOTHING_FOUND``); a deployment may name its own
result codes. The rules are pure: the server and the office console call them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from xuncha_core.errors import ConflictError, ForbiddenError
from xuncha_core.inspection_results import NOTHING_FOUND, RESULT_CATEGORIES

SUBMITTED, LEGAL_REVIEW, APPROVED, SENT_BACK, REJECTED = (
    "submitted",
    "legal_review",
    "approved",
    "sent_back",
    "rejected",
)
STATES = (SUBMITTED, LEGAL_REVIEW, APPROVED, SENT_BACK, REJECTED)
DECISIONS = ("approve", "send_back", "reject")
COMMENT = "comment"
ACTIONS = (*DECISIONS, COMMENT)
OFFICE, LEGAL = "office_reviewer", "legal_reviewer"
REVIEWER_ROLES = (OFFICE, LEGAL)
MAJOR_RESULTS: frozenset[str] = frozenset(RESULT_CATEGORIES) - NOTHING_FOUND
# The kinds that carry an enforcement decision: results the office enters, and inspections
# recorded on site by two officers' phones.
DECISION_KINDS = ("inspection_result", "random_inspection")


def is_major(kind: str, content: Mapping[str, Any], major_results: Collection[str] = MAJOR_RESULTS) -> bool:
    """Whether a record of ``kind`` with ``content`` is a major enforcement decision."""
    return kind in DECISION_KINDS and content.get("result") in major_results


def next_state(*, state: str, action: str, role: str, major: bool) -> str:
    """The state after ``role`` takes ``action`` on a record in ``state``; raises
    ForbiddenError (``review.not_your_step``) for a step that is not this role's, and
    ConflictError (``review.not_open``) when the record is not waiting for a decision."""
    if role not in REVIEWER_ROLES:
        raise _not_your_step(role, state)
    if action == COMMENT:
        return state
    if action not in DECISIONS:
        raise ValueError(f"unknown review action {action!r}")
    if state not in (SUBMITTED, LEGAL_REVIEW):
        raise ConflictError(
            "review.not_open",
            f"This record is {state.replace('_', ' ')}: nothing waits for a decision. "
            "It is judged again when its author submits a new revision.",
            f"该记录当前状态为「{STATE_NAMES_ZH.get(state, state)}」，没有待审核的内容；作者提交新版本后才能再次审核。",
            {"review_state": state},
        )
    waiting_for = LEGAL if state == LEGAL_REVIEW else OFFICE
    if role != waiting_for:
        raise _not_your_step(role, state)
    if action == "approve":
        return LEGAL_REVIEW if role == OFFICE and major else APPROVED
    return SENT_BACK if action == "send_back" else REJECTED


# What a decision leaves a record in, when nothing else says: a major decision the office
# approved waits for the legal reviewer, which only the server knows and says in
# ``review_state`` (``state_after``).
DECIDED = {"approve": APPROVED, "send_back": SENT_BACK, "reject": REJECTED}


def state_after(review: Mapping[str, Any]) -> str | None:
    """The state a review decision left its record in: the ``review_state`` the server sent
    with it (``legal_review`` after the office approved a major decision), else what its
    action decides; None for a comment or anything unknown, which changes no state."""
    if review.get("action") not in DECIDED:
        return None
    said = review.get("review_state")
    return said if said in (LEGAL_REVIEW, *DECIDED.values()) else DECIDED[review["action"]]


def waiting_role(state: str) -> str | None:
    """Whose decision a record in ``state`` waits for (None: nobody's)."""
    return {SUBMITTED: OFFICE, LEGAL_REVIEW: LEGAL}.get(state)


STATE_NAMES_ZH = {
    SUBMITTED: "待审核",
    LEGAL_REVIEW: "待法制审核",
    APPROVED: "已通过",
    SENT_BACK: "已退回",
    REJECTED: "不予通过",
}


def _not_your_step(role: str, state: str) -> ForbiddenError:
    if state == LEGAL_REVIEW:
        en = "This major enforcement decision waits for a legal reviewer's sign-off; only a legal reviewer decides now."
        zh = "该重大执法决定正等待法制审核，现在只有法制审核人员可以作出决定。"
    elif state == SUBMITTED:
        en = "The office reviews this record first; a legal reviewer acts only on a major decision the office approved."
        zh = "该记录须先经办公室审核；法制审核人员只审核办公室已通过的重大执法决定。"
    else:
        en = "Only office and legal reviewers decide on records."
        zh = "只有办公室审核和法制审核人员可以审核记录。"
    return ForbiddenError("review.not_your_step", en, zh, {"review_state": state, "role": role})
