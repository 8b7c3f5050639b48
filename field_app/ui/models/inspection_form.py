"""Random inspections on the officer's phone: the assigned list, the on-site form, the PIN. No Flet.

- ``assigned_inspections``: the inspections sync brought (reference topic ``task``) that
  this officer has not recorded yet, soonest deadline first, for the top of home;
- ``InspectionForm``: one inspection being recorded, kept as a store draft whose content
  is a ``random_inspection`` (``xuncha_core.inspections.inspection_record``);
  the second inspector confirms on this phone with their PIN, checked offline against
  the hash sync brought (reference topic ``pin``); any change after that asks again;
- ``new_pin_hash``: an officer setting their own PIN (two entries that must agree).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from field_app.ui.models.check_form import _DraftForm, build_envelope, device_now
from xuncha_core.content import content_photos, validate_content
from xuncha_core.errors import Problem
from xuncha_core.inspection_results import RESULT_CATEGORIES
from xuncha_core.inspections.inspection_record import KIND
from xuncha_core.inspections.pin import MAX_TRIES, hash_pin, pin_matches, pin_problems
from xuncha_core.records import new_record_id


@dataclass(frozen=True)
class AssignedInspection:
    task_id: str
    entity: str
    address: str
    matters: tuple[str, ...]
    co_inspectors: tuple[str, ...]
    deadline: str
    draft_id: str | None  # the record being filled in, if she started it


def assigned_inspections(
    tasks: Mapping[str, Any], records: Iterable[Mapping[str, Any]], drafts: Iterable[Mapping[str, Any]], username: str
) -> list[AssignedInspection]:
    """Her inspections not yet recorded (submitted or sent), soonest deadline first."""
    done = {(r.get("content") or {}).get("task_id") for r in records if r.get("kind") == KIND and r.get("state") != "draft"}
    drafted = {(d.get("content") or {}).get("task_id"): d["record_id"] for d in drafts if d.get("kind") == KIND}
    out = []
    for task_id, task in tasks.items():
        if not isinstance(task, Mapping) or task_id in done:
            continue
        entity = task.get("entity") or {}
        out.append(
            AssignedInspection(
                task_id=task_id,
                entity=str(entity.get("name") or entity.get("credit_code") or task_id),
                address=str(entity.get("address") or ""),
                matters=tuple(str(m.get("name") or m.get("id")) for m in task.get("matters") or []),
                co_inspectors=tuple(str(m.get("name")) for m in task.get("inspectors") or [] if m.get("username") != username),
                deadline=str(task.get("deadline") or ""),
                draft_id=drafted.get(task_id),
            )
        )
    return sorted(out, key=lambda a: (a.deadline, a.entity, a.task_id))


class InspectionForm(_DraftForm):
    """One assigned inspection being recorded on site (``task``: its feed payload)."""

    kind = KIND

    def __init__(self, draft: dict[str, Any], task: Mapping[str, Any], username: str) -> None:
        self.draft = copy.deepcopy(draft)
        self.task = task
        self.username = username
        self.draft["photos"] = content_photos(self.kind, self.content)

    @classmethod
    def start(cls, *, task: Mapping[str, Any], username: str, recorder: str, started_at: str | None = None) -> InspectionForm:
        at = started_at or device_now()
        entity = task.get("entity") or {}
        content = {
            "task_id": task["task_id"],
            "draw_id": task["draw_id"],
            "entity_id": entity.get("id"),
            "entity_credit_code": entity.get("credit_code"),
            "inspectors": [m["id"] for m in task.get("inspectors") or []],
            "matter_ids": [],
            "result": "",
            "findings": "",
            "photos": [],
            "started_at": at,
            "ended_at": at,
            "location": None,
            "recordings": [],
            "recorder": recorder,
            "co_inspector": None,
        }
        draft = {"record_id": new_record_id(), "kind": cls.kind, "revision": 1, "base_revision": None,
                 "content": content, "photos": [], "pin_failures": 0}
        return cls(draft, task, username)

    # -- what the screen offers -----------------------------------------------------------
    def matters(self) -> list[tuple[str, str, bool]]:
        """(id, name, checked) of each matter of the inspection."""
        chosen = set(self.content["matter_ids"])
        return [(m["id"], str(m.get("name") or m["id"]), m["id"] in chosen) for m in self.task.get("matters") or []]

    @staticmethod
    def results() -> list[tuple[str, str, str]]:
        """(code, Chinese, English) of each configured result category."""
        return [(code, zh, en) for code, (zh, en) in RESULT_CATEGORIES.items()]

    def co_inspectors(self) -> list[dict[str, Any]]:
        """The other inspectors of this inspection (who may confirm), from the task."""
        return [m for m in self.task.get("inspectors") or [] if m.get("username") and m.get("username") != self.username]

    @property
    def confirmed_by(self) -> str | None:
        co = self.content.get("co_inspector")
        return co.get("username") if isinstance(co, dict) else None

    @property
    def locked(self) -> bool:
        return int(self.draft.get("pin_failures", 0)) >= MAX_TRIES

    # -- changes (each one asks the co-inspector again) ----------------------------------------
    def _changed(self) -> None:
        self.content["co_inspector"] = None
        self.draft["photos"] = content_photos(self.kind, self.content)

    def toggle_matter(self, matter_id: str, checked: bool) -> None:
        ids = [m for m in self.content["matter_ids"] if m != matter_id]
        order = [m["id"] for m in self.task.get("matters") or []]
        if checked:
            ids.append(matter_id)
        self.content["matter_ids"] = sorted(ids, key=lambda m: order.index(m) if m in order else len(order))
        self._changed()

    def set_result(self, code: str) -> None:
        self.content["result"] = code
        self._changed()

    def set_findings(self, text: str) -> None:
        if text != self.content["findings"]:
            self.content["findings"] = text
            self._changed()

    def add_recording(self, number: str) -> bool:
        number = number.strip()
        if not number or number in self.content["recordings"]:
            return False
        self.content["recordings"].append(number)
        self._changed()
        return True

    def remove_recording(self, number: str) -> None:
        if number in self.content["recordings"]:
            self.content["recordings"].remove(number)
            self._changed()

    def add_photo(self, sha256: str) -> None:
        if sha256 not in self.content["photos"]:
            self.content["photos"].append(sha256)
            self._changed()

    def remove_photo(self, sha256: str) -> None:
        if sha256 in self.content["photos"]:
            self.content["photos"].remove(sha256)
            self._changed()

    def set_location(self, location: dict[str, Any] | None) -> None:
        self.content["location"] = location
        self._changed()

    def finish(self, at: str | None = None) -> None:
        """The inspection ends now (the end time she submits with)."""
        self.content["ended_at"] = at or device_now()

    # -- the second inspector -------------------------------------------------------------
    def confirm(self, username: str, pin: str, pin_hashes: Mapping[str, Any], *, at: str | None = None) -> str:
        """Check ``username``'s PIN offline; answer "confirmed", "wrong", "locked" or "no_pin"."""
        member = next((m for m in self.co_inspectors() if m["username"] == username), None)
        stored = (pin_hashes.get(username) or {}).get("pin_hash") if member is not None else None
        if member is None or not isinstance(stored, Mapping):
            return "no_pin"
        if self.locked:
            return "locked"
        if not pin_matches(username, pin, stored):
            self.draft["pin_failures"] = int(self.draft.get("pin_failures", 0)) + 1
            return "locked" if self.locked else "wrong"
        self.draft["pin_failures"] = 0
        self.finish(at)
        self.content["co_inspector"] = {"inspector_id": member["id"], "username": username,
                                        "confirmed_at": at or device_now(), "method": "pin"}
        return "confirmed"

    def problems(self) -> list[Problem]:
        return validate_content(self.kind, self.content)

    def envelope(self, *, author: str, device_id: str, device_time: str | None = None, gps_time: str | None = None) -> dict[str, Any]:
        return build_envelope(self.draft, author=author, device_id=device_id, device_time=device_time, gps_time=gps_time)


def new_pin_hash(username: str, pin: str, again: str) -> tuple[list[str], dict[str, Any] | None]:
    """(catalogue keys of what is wrong, the PinHash to send) for a PIN she typed twice."""
    if pin != again:
        return ["pin.mismatch"], None
    problems = pin_problems(pin)
    if problems:
        return [p.code for p in problems], None  # pin.bad_length, pin.too_simple: catalogue keys too
    return [], hash_pin(username, pin)
