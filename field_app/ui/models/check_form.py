"""The remediation check and the re-check being filled in: plain data, no Flet.

A form wraps the draft dict the local store keeps (``record_id``, ``kind``,
``revision``, ``base_revision``, ``base_digest``, ``content``, ``photos``) and keeps its content
valid for ``xuncha_core.content`` at every step: the points, the cleaners'
scores and the total are recomputed from the scoring sheet after each change,
so what is saved as a draft is exactly what would be submitted. ``problems()``
says what is still missing, in the validator's own words.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from field_app import clock
from field_app.ui.models.home import existing_check
from xuncha_core.assessment import CleanerRating, assess_cleaner
from xuncha_core.content import content_photos, validate_content
from xuncha_core.errors import Problem
from xuncha_core.points import HUNDREDTH, points_json
from xuncha_core.records import new_record_id
from xuncha_core.rectification import ESTIMATE, Deadline, deadline_for
from xuncha_core.scoring import DeadlineRule, Deduction, ScoringSheet, deduction_points, score_check
from xuncha_core.workdays import CHINA, WorkCalendar

RATING_FIELDS = ("absent_days", "late_minutes", "left_post_times", "dirty_spots")
LOCATION_SOURCES = ("gps", "network", "manual")


def device_now() -> str:
    """The device's clock as ISO 8601 with its UTC offset (recorded, never trusted for order)."""
    return clock.now_iso()


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def make_location(lat: float, lon: float, *, accuracy_m: float | None = None, source: str = "gps") -> dict[str, Any]:
    """A Location for the content; raises ValueError for coordinates off the globe."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("latitude must be within ±90 and longitude within ±180")
    if source not in LOCATION_SOURCES:
        raise ValueError(f"source must be one of {LOCATION_SOURCES}")
    acc = None if accuracy_m is None else round(max(float(accuracy_m), 0.0), 1)
    return {"lat": round(float(lat), 7), "lon": round(float(lon), 7), "accuracy_m": acc, "source": source}


def order_deadline(check_day: date, rule: DeadlineRule, calendar: WorkCalendar = CHINA) -> Deadline:
    """The default deadline of a rectification order, counting working days with 调休 where the
    sheet says so; for a year whose official calendar this phone does not hold yet, counted
    Monday to Friday and marked an estimate (预计), made exact when the year arrives."""
    return deadline_for(check_day, rule, calendar)


class _DraftForm:
    """A record being filled in, kept as a store draft (``draft``: the draft's JSON)."""

    draft: dict[str, Any]

    @property
    def record_id(self) -> str:
        return str(self.draft["record_id"])

    @property
    def content(self) -> dict[str, Any]:
        return self.draft["content"]


class CheckForm(_DraftForm):
    """A remediation check (环境整治检查) in progress, kept as a store draft."""

    kind = "remediation_check"

    def __init__(self, draft: dict[str, Any], sheet: ScoringSheet | None, calendar: WorkCalendar = CHINA) -> None:
        self.draft = copy.deepcopy(draft)
        self.sheet = sheet
        self.calendar = calendar  # the store's work_calendar(): built-in years and the office's
        self.recompute()

    @classmethod
    def start(
        cls,
        *,
        village_id: str,
        month: str,
        sheet: ScoringSheet,
        recorder: str,
        cleaner_ids: list[str],
        inspected_at: str | None = None,
    ) -> CheckForm:
        content: dict[str, Any] = {
            "village_id": village_id,
            "month": month,
            "sheet_id": sheet.id,
            "sheet_version": sheet.version,
            "inspected_at": inspected_at or device_now(),
            "recorder": recorder,
            "location": None,
            "deductions": [],
            "cleaner_ratings": [
                {"cleaner_id": cid, **dict.fromkeys(RATING_FIELDS, 0), "score": 100} for cid in cleaner_ids
            ],
            "total_score": points_json(sheet.total),
            "orders": [],
        }
        draft = {
            "record_id": new_record_id(),
            "kind": cls.kind,
            "revision": 1,
            "base_revision": None,
            "content": content,
            "photos": [],
        }
        return cls(draft, sheet)

    # -- reading -------------------------------------------------------------------------

    @property
    def deductions(self) -> list[dict[str, Any]]:
        return self.content["deductions"]

    def deduction(self, deduction_id: str) -> dict[str, Any]:
        for d in self.deductions:
            if d["deduction_id"] == deduction_id:
                return d
        raise KeyError(f"no deduction {deduction_id} in this check")

    def deductions_for(self, item_id: str) -> list[dict[str, Any]]:
        return [d for d in self.deductions if d["item_id"] == item_id]

    def orders_for(self, deduction_id: str) -> list[dict[str, Any]]:
        return [o for o in self.content["orders"] if deduction_id in o["deduction_ids"]]

    @property
    def total(self) -> int | float:
        return self.content["total_score"]

    def problems(self) -> list[Problem]:
        """Everything still missing or wrong, as the validator (and the server) sees it."""
        return validate_content(self.kind, self.content, sheet=self.sheet)

    def check_day(self) -> date:
        return datetime.fromisoformat(self.content["inspected_at"]).date()

    # -- changing ------------------------------------------------------------------------
    def move_to_month(self, month: str, records: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
        """Move the check to ``month``, unless ``records`` (hers, of that month) hold another check
        of its village: one check of a village a month, as 新建检查 keeps it. Then that check is
        returned and the month stays as it was."""
        taken = existing_check(records, self.content["village_id"], month, other_than=self.record_id)
        if taken is None:
            self.content["month"] = month
        return taken

    def set_location(self, location: dict[str, Any] | None) -> None:
        """The check's location; deductions without their own take it too."""
        self.content["location"] = location
        for d in self.deductions:
            if d["location"] is None:
                d["location"] = location

    def add_deduction(self, item_id: str, rule_id: str, count: int = 1) -> str:
        if self.sheet is None or self.sheet.rule(item_id, rule_id) is None:
            raise KeyError(f"rule {item_id}/{rule_id} is not on the scoring sheet")
        did = str(uuid.uuid4())
        self.deductions.append(
            {
                "deduction_id": did,
                "item_id": item_id,
                "rule_id": rule_id,
                "count": max(int(count), 1),
                "points": 0,
                "note": "",
                "photos": [],
                "location": self.content["location"],
            }
        )
        self.recompute()
        return did

    def set_count(self, deduction_id: str, count: int) -> None:
        self.deduction(deduction_id)["count"] = max(int(count), 1)
        self.recompute()

    def step_count(self, deduction_id: str, delta: int) -> None:
        self.set_count(deduction_id, self.deduction(deduction_id)["count"] + delta)

    def set_note(self, deduction_id: str, note: str) -> None:
        self.deduction(deduction_id)["note"] = note

    def set_deduction_location(self, deduction_id: str, location: dict[str, Any] | None) -> None:
        self.deduction(deduction_id)["location"] = location

    def add_photo(self, deduction_id: str, sha256: str, evidence: dict[str, Any] | None = None) -> None:
        """A photo for a deduction, with what is known of its time and place (``evidence``)."""
        photos = self.deduction(deduction_id)["photos"]
        if sha256 not in photos:
            photos.append(sha256)
        if evidence is not None:
            self.content.setdefault("photo_evidence", {})[sha256] = evidence
        self.recompute()

    def remove_photo(self, deduction_id: str, sha256: str) -> None:
        photos = self.deduction(deduction_id)["photos"]
        if sha256 in photos:
            photos.remove(sha256)
        self.recompute()

    def remove_deduction(self, deduction_id: str) -> None:
        """Drop a deduction and the orders that pointed only at it."""
        self.content["deductions"] = [d for d in self.deductions if d["deduction_id"] != deduction_id]
        kept = []
        for o in self.content["orders"]:
            o["deduction_ids"] = [x for x in o["deduction_ids"] if x != deduction_id]
            if o["deduction_ids"]:
                kept.append(o)
        self.content["orders"] = kept
        self.recompute()

    def rate_cleaner(self, cleaner_id: str, field: str, value: int) -> None:
        if field not in RATING_FIELDS:
            raise KeyError(f"{field} is not a rating field")
        for r in self.content["cleaner_ratings"]:
            if r["cleaner_id"] == cleaner_id:
                r[field] = max(int(value), 0)
                break
        else:
            raise KeyError(f"cleaner {cleaner_id} is not rated in this check")
        self.recompute()

    def add_order(
        self, deduction_id: str, *, title: str, responsible: str, deadline: date | None = None, description: str = ""
    ) -> str:
        """A rectification order for a deduction; the deadline defaults to the sheet's rule."""
        d = self.deduction(deduction_id)
        if deadline is None:
            rule = self.sheet.deadline_for(d["item_id"], d["rule_id"]) if self.sheet else DeadlineRule()
            due = order_deadline(self.check_day(), rule, self.calendar)
        else:
            due = Deadline(deadline)
        oid = str(uuid.uuid4())
        self.content["orders"].append(
            {
                "order_id": oid,
                "title": title,
                "description": description,
                "deduction_ids": [deduction_id],
                **due.order_fields(),  # with deadline_estimate when it is an estimate
                "responsible": responsible,
            }
        )
        return oid

    def set_order_field(self, order_id: str, field: str, value: str) -> None:
        if field not in ("title", "description", "deadline", "responsible"):
            raise KeyError(f"{field} is not an order field")
        for o in self.content["orders"]:
            if o["order_id"] == order_id:
                o[field] = value
                if field == "deadline":
                    o.pop(ESTIMATE, None)  # a day she chose is no estimate
                return
        raise KeyError(f"no order {order_id} in this check")

    def remove_order(self, order_id: str) -> None:
        self.content["orders"] = [o for o in self.content["orders"] if o["order_id"] != order_id]

    def recompute(self) -> None:
        """Recompute every derived figure from the sheet: deduction points, cleaner scores, total."""
        self.draft["photos"] = content_photos(self.kind, self.content)
        keep_evidence(self.content, self.draft["photos"])
        sheet = self.sheet
        if sheet is None:
            return
        scored = []
        for d in self.deductions:
            item, rule = sheet.item(d["item_id"]), sheet.rule(d["item_id"], d["rule_id"])
            if item is None or rule is None:
                continue
            d["points"] = points_json(deduction_points(item, rule, d["count"]))
            scored.append(Deduction(d["item_id"], d["rule_id"], d["count"]))
        self.content["total_score"] = points_json(score_check(sheet, scored).total)
        for r in self.content["cleaner_ratings"]:
            rating = CleanerRating(r["cleaner_id"], *(int(r[f]) for f in RATING_FIELDS))
            score = assess_cleaner(rating, sheet.cleaner_assessment).score
            r["score"] = points_json(score.quantize(HUNDREDTH))

    def envelope(self, *, author: str, device_id: str, device_time: str | None = None, gps_time: str | None = None) -> dict[str, Any]:
        return build_envelope(self.draft, author=author, device_id=device_id, device_time=device_time, gps_time=gps_time)


class RecheckForm(_DraftForm):
    """A re-check (复查) of one rectification order: "after" photos beside the "before" ones."""

    kind = "recheck"

    def __init__(self, draft: dict[str, Any]) -> None:
        self.draft = copy.deepcopy(draft)
        self.draft["photos"] = content_photos(self.kind, self.content)

    @classmethod
    def start(cls, *, order: dict[str, Any], recorder: str, rechecked_at: str | None = None) -> RecheckForm:
        content = {
            "order_id": order["order_id"],
            "check_record_id": order["check_record_id"],
            "village_id": order["village_id"],
            "month": order["month"],
            "after_photos": [],
            "note": "",
            "resolved": True,
            "rechecked_at": rechecked_at or device_now(),
            "recorder": recorder,
            "location": None,
        }
        return cls({"record_id": new_record_id(), "kind": cls.kind, "revision": 1, "base_revision": None,
                    "content": content, "photos": []})


    def add_photo(self, sha256: str, evidence: dict[str, Any] | None = None) -> None:
        if sha256 not in self.content["after_photos"]:
            self.content["after_photos"].append(sha256)
        if evidence is not None:
            self.content.setdefault("photo_evidence", {})[sha256] = evidence
        self.draft["photos"] = content_photos(self.kind, self.content)

    def remove_photo(self, sha256: str) -> None:
        if sha256 in self.content["after_photos"]:
            self.content["after_photos"].remove(sha256)
        self.draft["photos"] = content_photos(self.kind, self.content)
        keep_evidence(self.content, self.draft["photos"])

    def set_resolved(self, resolved: bool) -> None:
        self.content["resolved"] = bool(resolved)

    def set_note(self, note: str) -> None:
        self.content["note"] = note

    def set_location(self, location: dict[str, Any] | None) -> None:
        self.content["location"] = location

    def problems(self) -> list[Problem]:
        return validate_content(self.kind, self.content)

    def envelope(self, *, author: str, device_id: str, device_time: str | None = None, gps_time: str | None = None) -> dict[str, Any]:
        return build_envelope(self.draft, author=author, device_id=device_id, device_time=device_time, gps_time=gps_time)


def keep_evidence(content: dict[str, Any], photos: list[str]) -> None:
    """Drop the ``photo_evidence`` of photos the content no longer holds."""
    evidence = content.get("photo_evidence")
    if isinstance(evidence, dict):
        for sha in [s for s in evidence if s not in photos]:
            del evidence[sha]


def build_envelope(
    draft: dict[str, Any], *, author: str, device_id: str, device_time: str | None, gps_time: str | None
) -> dict[str, Any]:
    """The record envelope to submit for a draft (``xuncha_core.records`` fields only)."""
    return {
        "record_id": draft["record_id"],
        "kind": draft["kind"],
        "revision": draft.get("revision", 1),
        "base_revision": draft.get("base_revision"),
        "base_digest": draft.get("base_digest"),
        "author": author,
        "device_id": device_id,
        "device_time": device_time or device_now(),
        "gps_time": gps_time,
        "content": copy.deepcopy(draft["content"]),
        "photos": content_photos(draft["kind"], draft["content"]),
    }
