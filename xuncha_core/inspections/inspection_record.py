"""The ``random_inspection`` record: one assigned inspection, carried out on site and recorded on a phone.

Its content (see ``xuncha_core.content`` for the common shapes)::

    {"task_id": Id, "draw_id": Id, "entity_id": Id,
     "entity_credit_code": 18-character unified social credit code (GB 32100-2015),
     "inspectors": [Id of the inspector directory, ≥ 2 different],
     "matter_ids": [Id, ≥ 1],                        # the matters checked
     "result": result category code, "findings": text (required unless the result found nothing),
     "photos": Photos, "started_at": Time, "ended_at": Time (not before started_at),
     "location": Location | null,
     "recordings": [text ≤ 64, 1 to 50 different],   # whole-process recording: body-camera file numbers
     "recorder": text,
     "co_inspector": {"inspector_id": Id among inspectors, "username": Id,
                      "confirmed_at": Time (not before started_at), "method": "pin"}}

``co_inspector`` is the second inspector's confirmation, given on the recording
phone with their personal PIN (``xuncha_core.inspections.pin``). The server also
checks that the author and the co-inspector are the two the draw assigned.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from xuncha_core.content_checks import Checker
from xuncha_core.inspection_results import NOTHING_FOUND, RESULT_CATEGORIES

KIND = "random_inspection"
FIELDS = frozenset(
    ["task_id", "draw_id", "entity_id", "entity_credit_code", "inspectors", "matter_ids", "result", "findings", "photos", "started_at", "ended_at", "location", "recordings", "recorder", "co_inspector"]
)
CONFIRMATION_FIELDS = frozenset({"inspector_id", "username", "confirmed_at", "method"})
CONFIRMATION_METHODS = ("pin",)
MAX_RECORDINGS, MAX_RECORDING_CHARS = 50, 64


def check_random_inspection(c: Checker, content: dict[str, Any], categories: Collection[str] | None) -> None:
    """Note every problem of a ``random_inspection`` content on ``c`` (unknown fields are noted by the caller)."""
    for key in ("task_id", "draw_id", "entity_id"):
        c.ident(content, key, "")
    c.credit_code(content, "entity_credit_code", "")
    c.text(content, "recorder", "", max_len=128)
    c.location(content, "location", "")
    c.photos(content, "photos", "")
    c.ids(content, "matter_ids", "", min_len=1, uuid_only=False)
    inspectors = check_inspectors(c, content)
    check_result(c, content, categories)
    started, ended = c.time(content, "started_at", ""), c.time(content, "ended_at", "")
    if started is not None and ended is not None and ended < started:
        c.bad(
            "ended_at",
            "inspection.ends_before_start",
            "the inspection cannot end before it started; correct the end time",
            "检查结束时间不能早于开始时间，请更正",
        )
    _recordings(c, content)
    _co_inspector(c, content, inspectors, started)


def check_inspectors(c: Checker, content: dict[str, Any]) -> list[str] | None:
    inspectors = c.ids(content, "inspectors", "", min_len=1, uuid_only=False)
    if inspectors is not None and len(inspectors) < 2:
        c.bad(
            "inspectors",
            "inspection.two_inspectors",
            "at least two different inspectors must carry out an inspection (行政处罚法 art. 42); add the second",
            "执法检查须有两名以上不同的执法人员（行政处罚法第四十二条），请添加第二名",
        )
        return None
    return inspectors


def check_result(c: Checker, content: dict[str, Any], categories: Collection[str] | None) -> None:
    """The result is a configured category, and findings are written unless it found nothing."""
    allowed = tuple(categories) if categories is not None else tuple(RESULT_CATEGORIES)
    result = content.get("result")
    if result not in allowed:
        c.bad(
            "result",
            "inspection.bad_result",
            f"result must be one of the configured categories: {', '.join(allowed)}",
            "检查结果必须是配置的结果类别之一",
        )
    findings = c.text(content, "findings", "", allow_empty=True)
    if result in allowed and result not in NOTHING_FOUND and findings is not None and not findings.strip():
        c.bad(
            "findings",
            "inspection.findings_required",
            "describe what was found for this result",
            "该检查结果需要填写发现的问题",
        )


def _recordings(c: Checker, content: dict[str, Any]) -> None:
    value: Any = content.get("recordings")
    good = (
        isinstance(value, list)
        and 1 <= len(value) <= MAX_RECORDINGS
        and all(isinstance(v, str) and v.strip() and len(v) <= MAX_RECORDING_CHARS for v in value)
    )
    if not good:
        c.bad(
            "recordings",
            "inspection.recording_required",
            f"list the body-camera file numbers of the whole-process recording (1 to {MAX_RECORDINGS}, "
            f"each at most {MAX_RECORDING_CHARS} characters)",
            f"请填写执法全过程记录的执法记录仪文件编号（1 至 {MAX_RECORDINGS} 个，每个不超过 {MAX_RECORDING_CHARS} 字）",
        )
    elif isinstance(value, list) and len({v.strip() for v in value}) != len(value):
        c.bad(
            "recordings",
            "content.duplicate_id",
            "recordings lists the same file twice; list each once",
            "录像文件编号有重复，请只列一次",
        )


def _co_inspector(c: Checker, content: dict[str, Any], inspectors: list[str] | None, started: Any) -> None:
    if "co_inspector" not in content or not isinstance(content["co_inspector"], dict):
        c.bad(
            "co_inspector",
            "inspection.co_inspector_unconfirmed",
            "the second inspector has not confirmed being present; let them type their PIN on this phone",
            "第二名执法人员尚未确认在场，请其在本机输入个人密码",
        )
        return
    confirmation = content["co_inspector"]
    c.fields(confirmation, "co_inspector.", CONFIRMATION_FIELDS)
    inspector_id = c.ident(confirmation, "inspector_id", "co_inspector.")
    c.ident(confirmation, "username", "co_inspector.")
    confirmed = c.time(confirmation, "confirmed_at", "co_inspector.")
    if confirmation.get("method") not in CONFIRMATION_METHODS:
        c.bad(
            "co_inspector.method",
            "inspection.bad_confirmation",
            "the second inspector confirms with their PIN (method \"pin\")",
            "第二名执法人员须以个人密码确认",
        )
    if inspectors is not None and inspector_id is not None and inspector_id not in inspectors:
        c.bad(
            "co_inspector.inspector_id",
            "inspection.co_inspector_not_listed",
            "the confirming inspector is not one of this inspection's inspectors",
            "确认人不是本次检查的执法人员",
        )
    if confirmed is not None and started is not None and confirmed < started:
        c.bad(
            "co_inspector.confirmed_at",
            "inspection.confirmed_before_start",
            "the second inspector confirmed before the inspection started; confirm again on site",
            "确认时间早于检查开始时间，请在现场重新确认",
        )
