"""The content of each record kind, and the check that says exactly what is missing.

``validate_content(kind, content)`` checks the structure alone (what the server
can always do); given the scoring sheet it also checks the items and rules
exist, every stored figure equals the sheet's computation and every rule that
demands a photo has one. Each problem has a dotted path (``deductions.2.photos``),
a stable code and a sentence in English and Chinese. Unknown fields are
problems too: an evidence record holds only what is defined here.

Common shapes::

    Location  = {"lat": -90..90, "lon": -180..180, "accuracy_m": number ≥ 0 | null,
                 "source": "gps" | "network" | "manual"}       # WGS-84 degrees
    Photos    = ["<lowercase hex sha256>", …]                   # no repeats
    Time      = ISO 8601 with UTC offset ("2025-03-14T09:30:00+08:00"), device time
    Month     = "YYYY-MM";  Date = "YYYY-MM-DD";  Id = non-empty text ≤ 128;  Uuid = lowercase UUID
    Points    = JSON number ≥ 0 with at most two decimals (see ``points``)

``remediation_check`` (环境整治检查)::

    {"village_id": Id, "month": Month, "sheet_id": Id, "sheet_version": int ≥ 1,
     "inspected_at": Time, "recorder": text, "location": Location | null,
     "deductions": [{"deduction_id": Uuid, "item_id": Id, "rule_id": Id, "count": int ≥ 1,
                     "points": Points,            # as the sheet computes it, stored for self-containment
                     "note": text (may be ""), "photos": Photos, "location": Location | null}],
     "cleaner_ratings": [CleanerRating],
     "total_score": Points,
     "orders": [{"order_id": Uuid, "title": text, "description": text (may be ""),
                 "deduction_ids": [Uuid of a deduction above, ≥ 1], "deadline": Date (not before
                 the check), "responsible": text}],
     "note": text (optional)}

    CleanerRating = {"cleaner_id": Id, "absent_days": 0..31, "late_minutes": 0..44640,
                     "left_post_times": 0..1000, "dirty_spots": 0..10000, "score": Points ≤ 100}

``recheck`` (复查; closes an order when resolved with at least one "after" photo)::

    {"order_id": Uuid, "check_record_id": Uuid, "village_id": Id, "month": Month,
     "after_photos": Photos, "note": text (required when not resolved), "resolved": bool,
     "rechecked_at": Time, "recorder": text, "location": Location | null}

``inspection_result`` (双随机 random inspection)::

    {"task_id": Id, "plan_id": Id, "entity_id": Id,
     "entity_credit_code": 18-character unified social credit code (GB 32100-2015),
     "inspectors": [Id, ≥ 2 different], "matter_ids": [Id, ≥ 1], "result": result category code,
     "findings": text (required unless the result found nothing), "photos": Photos,
     "inspected_at": Time, "recorder": text, "location": Location | null}

``random_inspection`` (双随机 inspection recorded on site, both inspectors confirmed): see
``xuncha_core.inspections.inspection_record``.

``routine_assessment`` (平时考核 of cleaners, recorded on its own)::

    {"village_id": Id, "month": Month, "cleaner_ratings": [CleanerRating, ≥ 1],
     "assessed_at": Time, "recorder": text, "sheet_id": Id (optional), "sheet_version": int (optional),
     "note": text (optional)}
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from xuncha_core.content_checks import Checker
from xuncha_core.errors import Problem
from xuncha_core.evidence import evidence_problems
from xuncha_core.inspections import inspection_record
from xuncha_core.inspections.inspection_record import check_inspectors, check_result
from xuncha_core.records import RECORD_KINDS
from xuncha_core.remediation_check import check_remediation, cleaner_ratings
from xuncha_core.scoring import ScoringSheet


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # kind: (required fields, optional fields)
    "remediation_check": (
        _names(
            "village_id month sheet_id sheet_version inspected_at recorder location"
            " deductions cleaner_ratings total_score orders"
        ),
        frozenset({"note", "photo_evidence"}),
    ),
    "recheck": (
        _names(
            "order_id check_record_id village_id month after_photos note resolved"
            " rechecked_at recorder location"
        ),
        frozenset({"photo_evidence"}),
    ),
    "inspection_result": (
        _names(
            "task_id plan_id entity_id entity_credit_code inspectors matter_ids result"
            " findings photos inspected_at recorder location"
        ),
        frozenset(),
    ),
    inspection_record.KIND: (inspection_record.FIELDS, frozenset()),
    "routine_assessment": (
        _names("village_id month cleaner_ratings assessed_at recorder"),
        frozenset({"sheet_id", "sheet_version", "note"}),
    ),
}


def validate_content(
    kind: str,
    content: Any,
    *,
    sheet: ScoringSheet | None = None,
    result_categories: Collection[str] | None = None,
) -> list[Problem]:
    """Every problem with ``content`` for a record of ``kind``; an empty list means it is acceptable.

    ``sheet`` adds the checks against the scoring sheet (remediation checks and
    routine assessments); ``result_categories`` replaces the default inspection
    result codes.
    """
    c = Checker()
    if kind not in RECORD_KINDS:
        c.bad(
            "kind",
            "content.bad_kind",
            f"kind must be one of {', '.join(RECORD_KINDS)}",
            f"记录类型必须是 {', '.join(RECORD_KINDS)} 之一",
        )
        return c.problems
    if not isinstance(content, dict):
        c.bad("", "content.not_object", "content must be a JSON object", "内容必须是 JSON 对象")
        return c.problems
    required, optional = _FIELDS[kind]
    c.fields(content, "", required, optional)
    if kind == "remediation_check":
        check_remediation(c, content, sheet)
    elif kind == "recheck":
        _recheck(c, content)
    elif kind == "inspection_result":
        _inspection_result(c, content, result_categories)
    elif kind == inspection_record.KIND:
        inspection_record.check_random_inspection(c, content, result_categories)
    else:
        _routine_assessment(c, content, sheet)
    if "photo_evidence" in content:
        for en, zh in evidence_problems(content["photo_evidence"], content_photos(kind, content)):
            c.bad("photo_evidence", "content.bad_photo_evidence", en, zh)
    return c.problems


def content_photos(kind: str, content: dict[str, Any]) -> list[str]:
    """Every photo hash the content refers to, once each, in order: the envelope's ``photos``."""
    found: list[str] = []
    if kind == "remediation_check":
        for d in content.get("deductions") or []:
            if isinstance(d, dict):
                found.extend(p for p in d.get("photos") or [] if isinstance(p, str))
    elif kind == "recheck":
        found.extend(p for p in content.get("after_photos") or [] if isinstance(p, str))
    elif kind in ("inspection_result", inspection_record.KIND):
        found.extend(p for p in content.get("photos") or [] if isinstance(p, str))
    return list(dict.fromkeys(found))


def _routine_assessment(c: Checker, content: dict[str, Any], sheet: ScoringSheet | None) -> None:
    c.ident(content, "village_id", "")
    c.month(content, "month", "")
    c.time(content, "assessed_at", "")
    c.text(content, "recorder", "", max_len=128)
    if "sheet_id" in content:
        c.ident(content, "sheet_id", "")
    if "sheet_version" in content:
        c.integer(content, "sheet_version", "", 1, 1_000_000)
    if "note" in content:
        c.text(content, "note", "", allow_empty=True)
    cleaner_ratings(c, content, sheet, min_len=1)


def _recheck(c: Checker, content: dict[str, Any]) -> None:
    c.uuid(content, "order_id", "")
    c.uuid(content, "check_record_id", "")
    c.ident(content, "village_id", "")
    c.month(content, "month", "")
    c.time(content, "rechecked_at", "")
    c.text(content, "recorder", "", max_len=128)
    c.location(content, "location", "")
    photos = c.photos(content, "after_photos", "")
    resolved = c.boolean(content, "resolved", "")
    note = c.text(content, "note", "", allow_empty=True)
    if resolved is True and photos is not None and not photos:
        c.bad(
            "after_photos",
            "recheck.after_photo_required",
            "a resolved re-check needs at least one “after” photo; take one of the fixed spot",
            "复查确认整改完成时至少需要一张整改后照片，请拍摄整改后的现场",
        )
    if resolved is False and note is not None and not note.strip():
        c.bad(
            "note",
            "recheck.note_required",
            "say what is still wrong when the problem is not fixed",
            "未整改完成时请说明仍存在的问题",
        )


def _inspection_result(
    c: Checker, content: dict[str, Any], categories: Collection[str] | None
) -> None:
    for key in ("task_id", "plan_id", "entity_id"):
        c.ident(content, key, "")
    c.credit_code(content, "entity_credit_code", "")
    c.time(content, "inspected_at", "")
    c.text(content, "recorder", "", max_len=128)
    c.location(content, "location", "")
    c.photos(content, "photos", "")
    check_inspectors(c, content)
    c.ids(content, "matter_ids", "", min_len=1, uuid_only=False)
    check_result(c, content, categories)
