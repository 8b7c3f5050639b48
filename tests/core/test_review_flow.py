"""Legal review (法制审核) comes after the office's approval, and only then (issue 10)."""

from __future__ import annotations

import pytest

from xuncha_core import review_flow as rf
from xuncha_core.errors import ConflictError, ForbiddenError


def test_an_ordinary_record_is_approved_by_the_office_alone() -> None:
    assert rf.next_state(state="submitted", action="approve", role=rf.OFFICE, major=False) == "approved"


def test_a_major_decision_waits_for_the_legal_reviewer_after_the_office_approves() -> None:
    state = rf.next_state(state="submitted", action="approve", role=rf.OFFICE, major=True)
    assert state == "legal_review"
    assert rf.waiting_role(state) == rf.LEGAL
    assert rf.next_state(state=state, action="approve", role=rf.LEGAL, major=True) == "approved"


def test_a_legal_reviewer_may_not_decide_before_the_office() -> None:
    with pytest.raises(ForbiddenError) as refused:
        rf.next_state(state="submitted", action="reject", role=rf.LEGAL, major=True)
    assert refused.value.code == "review.not_your_step"


def test_issue_10_a_legal_reviewer_cannot_reject_an_ordinary_record_the_office_approved() -> None:
    with pytest.raises(ConflictError) as refused:
        rf.next_state(state="approved", action="reject", role=rf.LEGAL, major=False)
    assert refused.value.code == "review.not_open"


def test_the_office_may_not_overrule_a_pending_legal_review() -> None:
    with pytest.raises(ForbiddenError):
        rf.next_state(state="legal_review", action="approve", role=rf.OFFICE, major=True)


@pytest.mark.parametrize("action,expected", [("send_back", "sent_back"), ("reject", "rejected")])
def test_the_legal_reviewer_may_send_back_or_reject_a_major_decision(action: str, expected: str) -> None:
    assert rf.next_state(state="legal_review", action=action, role=rf.LEGAL, major=True) == expected


def test_a_comment_changes_nothing_in_any_state() -> None:
    for state in rf.STATES:
        for role in rf.REVIEWER_ROLES:
            assert rf.next_state(state=state, action="comment", role=role, major=True) == state


def test_other_roles_decide_nothing() -> None:
    for role in ("supervisor", "officer", "auditor", "admin"):
        with pytest.raises(ForbiddenError):
            rf.next_state(state="submitted", action="approve", role=role, major=False)


def test_only_inspection_results_that_found_something_are_major() -> None:
    assert rf.is_major("inspection_result", {"result": "refused_inspection"})
    assert not rf.is_major("inspection_result", {"result": "no_problem"})
    assert not rf.is_major("remediation_check", {"result": "refused_inspection"})


def test_a_decision_leaves_the_state_the_server_said_else_what_its_action_decides() -> None:
    assert rf.state_after({"action": "approve", "review_state": "legal_review"}) == "legal_review"
    assert rf.state_after({"action": "approve", "review_state": "approved"}) == "approved"
    assert rf.state_after({"action": "approve"}) == "approved"  # an older server says no state
    assert rf.state_after({"action": "send_back", "review_state": None}) == "sent_back"
    assert rf.state_after({"action": "reject", "review_state": "nonsense"}) == "rejected"
    assert rf.state_after({"action": "comment", "review_state": "approved"}) is None
