"""One record in full (``/console/records/{record_id}``) and its photos."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, Response

from server.accounts import access
from server.console import catalogue, charts, facts, queries, revision_diff, web, wording
from server.console.receipts import verified_receipts
from server.infra.db import read
from server.photos import checks as photo_checks
from server.photos import store as photo_store
from server.records import queries as record_queries
from xuncha_core import evidence, review_flow
from xuncha_core.errors import NotFoundError

router = APIRouter(prefix="/console", include_in_schema=False)
RecordId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f-]+$")]


@router.get("/records/{record_id}")
def record_page(request: Request, session: web.Reader, record_id: RecordId, done: str = "") -> Response:
    lang = web.lang_of(request)
    with read(request.app.state.engine) as conn:
        record = record_queries.get_record(conn, record_id=record_id, actor=session.actor)
        names = facts.names(conn)
        head = record["revisions"][-1]["envelope"]
        kept = queries.kept_photos(conn, head["photos"])
        receipts = verified_receipts(conn, [r["receipt"] for r in record["revisions"]])
    content = head["content"]
    village = names.villages.get(str(content.get("village_id")), {})
    photos = _photos(head, kept, village.get("location"))
    major = review_flow.is_major(record["kind"], content)
    t = web.translator(lang)
    return web.render(
        request, "record.html",
        record=record, head=head, fields=wording.describe(record["kind"], content, names, lang),
        village=names.village(content.get("village_id"), lang) if content.get("village_id") else "",
        author=names.user(record["author"]), photos=photos,
        map=charts.location_map(_points(content, photos, village.get("location"), t), title=t("record.map")),
        history=_history(record["revisions"], names, lang), receipts=receipts,
        reviews=[{**r, "reviewer": names.user(r["reviewer"]), "at": wording.when(r["at"])} for r in record["reviews"]],
        major=major, waiting=review_flow.waiting_role(record["review_state"]),
        notice=t("action.done", action=t(f"action.{done}")) if f"action.{done}" in catalogue.CATALOGUE else "",
    )


def _checked_at(content: dict[str, Any]) -> datetime | None:
    for key in ("inspected_at", "rechecked_at", "assessed_at"):
        value = content.get(key)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return None
    return None


def _photos(envelope: dict[str, Any], kept: set[str], village_location: Any) -> list[dict[str, Any]]:
    content = envelope["content"]
    evidence_of = content.get("photo_evidence")
    meta_of: dict[str, Any] = evidence_of if isinstance(evidence_of, dict) else {}
    checked_at = _checked_at(content)
    out = []
    for sha in envelope["photos"]:
        found = meta_of.get(sha)
        meta: dict[str, Any] = found if isinstance(found, dict) else {}
        d = evidence.doubts(meta, village_location=village_location, checked_at=checked_at)
        out.append({
            "sha256": sha, "kept": sha in kept, "flags": d.flags, "location": meta.get("location"),
            "distance_km": None if d.distance_m is None else f"{d.distance_m / 1000:.1f}",
            "taken_at": wording.when(meta.get("taken_at")) if meta.get("taken_at") else "",
        })
    return out


def _points(content: dict[str, Any], photos: list[dict[str, Any]], village_location: Any, t: Any) -> list[charts.Point]:
    points = []
    for where, shape, label in [(content.get("location"), "dot", t("record.map"))] + [
        (d.get("location"), "dot", t("field.deductions")) for d in content.get("deductions") or [] if isinstance(d, dict)
    ] + [(p["location"], "diamond", p["sha256"][:12]) for p in photos] + [(village_location, "ring", t("common.village"))]:
        if isinstance(where, dict) and isinstance(where.get("lat"), (int, float)) and isinstance(where.get("lon"), (int, float)):
            points.append(charts.Point(float(where["lat"]), float(where["lon"]), label, shape))
    return points


def _history(revisions: list[dict[str, Any]], names: wording.Names, lang: str) -> list[dict[str, Any]]:
    out = []
    previous = None
    for r in revisions:
        env, receipt = r["envelope"], r["receipt"]
        changes: list[revision_diff.Change] = revision_diff.envelope_changes(previous, env) if previous is not None else []
        out.append({
            "revision": env["revision"], "received_at": wording.when(receipt["received_at"]),
            "device_time": wording.when(env["device_time"]), "gps_time": wording.when(env.get("gps_time")),
            "digest": receipt["digest"], "ledger_index": receipt["ledger_index"],
            "changes": [{"path": c.path, "kind": c.kind, "before": _shown(c.before), "after": _shown(c.after)} for c in changes],
            "first": previous is None,
        })
        previous = env
    return out[::-1]


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


@router.get("/photos/{sha256}")
def photo(request: Request, session: web.Reader, sha256: Annotated[str, Path(max_length=64)]) -> Response:
    sha = photo_checks.normalise_sha256(sha256)
    settings = request.app.state.settings
    with read(request.app.state.engine) as conn:
        if not access.may_read_photo(conn, actor=session.actor, sha256=sha):
            raise access.photo_forbidden()
        receipt = photo_store.find_photo(conn, sha)
    path = photo_store.photo_path(settings, sha)
    if receipt is None or not os.path.isfile(path):
        raise NotFoundError("photo.not_found", "The server does not keep this photo.", "服务器上没有这张照片。")
    return FileResponse(path, media_type=receipt.mime,
                        headers={"Cache-Control": "private, max-age=86400", "Content-Security-Policy": "default-src 'none'"})
