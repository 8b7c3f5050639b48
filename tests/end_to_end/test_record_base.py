"""A revision names its base by number and by digest (issue 7, hole 9).

Two phones of one supervisor edit the same revision; the server keeps the first edit and
refuses the second as a conflict. A further revision the second phone built on its refused
edit names that edit's digest, so the server refuses it too, instead of storing it as if it
had been built on the version the server kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from field_app.store import LocalStore
from field_app.store.store_file import StoreFile
from field_app.ui.models.check_form import build_envelope
from tests.support.live_server import LiveServer
from tests.support.phone import Phone
from tests.support.records import Member, digest, member, remediation_content
from tests.support.store_writer import envelope as store_envelope


def _revisions(server: LiveServer) -> list[tuple[int, str]]:
    eng = sa.create_engine(server.database_url)
    try:
        with eng.connect() as conn:
            rows = conn.execute(sa.text("SELECT revision, envelope FROM record_revisions ORDER BY revision")).all()
            return [(r.revision, r.envelope) for r in rows]
    finally:
        eng.dispose()


def _other_phone(m: Member) -> Member:
    enrolled = m.server.enroll(m.username)
    return Member(m.username, m.role, enrolled["device_id"], enrolled["token"], m.server)


def test_a_revision_built_on_a_refused_revision_is_refused_naming_the_base_it_was_built_on(server: LiveServer) -> None:
    phone_a = member(server, "wang", "supervisor")
    phone_b = _other_phone(phone_a)
    first = phone_a.envelope(content=remediation_content(note="垃圾桶满溢"))
    edit_a = phone_a.envelope(base=first, content=remediation_content(note="周一已清运"))
    edit_b = phone_b.envelope(base=first, content=remediation_content(note="周二已清运"))
    built_on_b = phone_b.envelope(base=edit_b, content=remediation_content(note="周二已清运，已拍照"))
    with phone_a.client() as a, phone_b.client() as b:
        assert a.post("/api/v1/records", json=first).status_code == 201
        assert a.post("/api/v1/records", json=edit_a).status_code == 201
        assert b.post("/api/v1/records", json=edit_b).json()["error"]["code"] == "record.revision_conflict"

        r = b.post("/api/v1/records", json=built_on_b)
        batch = b.post("/api/v1/records/batch", json={"records": [built_on_b]}).json()["results"][0]

    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "record.base_mismatch" and error["message"] and error["message_zh"]
    assert error["detail"]["base_revision"] == 2
    assert error["detail"]["your_base_digest"] == digest(edit_b)
    assert error["detail"]["server_base_digest"] == digest(edit_a)
    assert error["detail"]["server_envelope"] == edit_a  # her own record: both versions to choose from
    assert batch["status"] == 409 and batch["error"]["code"] == "record.base_mismatch"
    assert [rev for rev, _ in _revisions(server)] == [1, 2]


def test_a_revision_built_on_the_servers_version_is_accepted_and_keeps_its_base_digest(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    first = wang.envelope()
    second = wang.envelope(base=first, content=remediation_content(note="补拍"))
    with wang.client() as c:
        assert c.post("/api/v1/records", json=first).status_code == 201
        r = c.post("/api/v1/records", json=second)
        again = c.post("/api/v1/records", json=second)
    assert r.status_code == 201, r.text
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert r.json()["digest"] == digest(second)
    stored = dict(_revisions(server))
    assert '"base_digest"' in stored[2] and '"base_digest"' not in stored[1]


def test_a_revision_without_its_bases_digest_is_refused_saying_what_to_send(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    first = wang.envelope()
    no_digest = {k: v for k, v in wang.envelope(base=first).items() if k != "base_digest"}
    bad_digest = {**wang.envelope(base=first), "base_digest": "NOT-A-DIGEST"}
    first_with_digest = {**wang.envelope(), "base_digest": digest(first)}
    with wang.client() as c:
        assert c.post("/api/v1/records", json=first).status_code == 201
        answers = [c.post("/api/v1/records", json=e) for e in (no_digest, bad_digest, first_with_digest)]
    for r in answers:
        assert r.status_code == 422, r.text
        problems = r.json()["error"]["detail"]["problems"]
        assert any(p["path"] == "base_digest" for p in problems), problems
    assert [rev for rev, _ in _revisions(server)] == [1]


def test_a_phone_whose_edit_lost_a_conflict_does_not_overwrite_the_kept_edit_with_its_next_one(
    server: LiveServer, tmp_path: Path
) -> None:
    """Take the server's version, then send the draft made on top of the refused edit: a conflict, not a silent win."""
    server.add_user("zhang", "supervisor")
    phone, second = Phone(server, tmp_path / "one", "zhang"), Phone(server, tmp_path / "two", "zhang")
    try:
        original = phone.save_recheck([], note="pile of rubble")
        phone.sync()
        rid = original["record_id"]
        second.store.import_history([(original, phone.store.get_record(rid)["receipt"])])
        phone.edit(original, "rubble cleared")
        second.edit(original, "rubble half cleared")
        draft = second.store.edit_record(rid)  # made on top of her (still unsent) revision 2
        draft["content"]["note"] = "rubble half cleared; the rest on Friday"
        second.store.save_draft(draft)
        phone.sync()
        assert second.sync().conflicts == [rid]

        second.store.resolve_conflict(rid, "take_server")
        user = second.store.get_setting("user")
        second.store.submit(
            build_envelope(
                second.store.get_draft(rid), author=user["username"], device_id=second.device_id,
                device_time=None, gps_time=None,
            )
        )
        result = second.sync()

        assert result.conflicts == [rid] and result.refused == []
        notes = [json.loads(env)["content"]["note"] for _, env in _revisions(server)]
        assert notes == ["pile of rubble", "rubble cleared"], "the kept edit must not be overwritten silently"
        view = second.store.get_record(rid)
        assert view["state"] == "conflict" and view["server_envelope"]["content"]["note"] == "rubble cleared"

        second.store.resolve_conflict(rid, "keep_mine")  # she chooses, knowing both
        second.sync()
        notes = [json.loads(env)["content"]["note"] for _, env in _revisions(server)]
        assert notes == ["pile of rubble", "rubble cleared", "rubble half cleared; the rest on Friday"]
    finally:
        phone.close()
        second.close()


R1 = "11111111-1111-4111-8111-111111111111"


def _check(revision: int, score: int) -> dict[str, Any]:
    return store_envelope(R1, revision, {"village_id": "v-shiqiao", "month": "2025-05", "score": score})


def test_every_revision_the_phone_makes_names_the_digest_of_the_version_it_was_made_from(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    try:
        first = _check(1, 80)
        store.submit(first)
        store.record_receipt(R1, 1, {"record_id": R1, "revision": 1, "digest": digest(first)})
        edited = store.edit_record(R1)  # the edit screen
        assert (edited["base_revision"], edited["base_digest"]) == (1, digest(first))
        store.submit(build_envelope(edited, author=first["author"], device_id=first["device_id"],
                                    device_time=None, gps_time=None))
        mine = store.outbox()[0]["envelope"]
        newer = store.edit_record(R1)  # a further edit on top of her unsent revision 2
        assert newer["base_digest"] == digest(mine)

        theirs = {**_check(2, 95), "base_digest": digest(first), "device_id": "phone-2"}
        store.record_conflict(R1, 2, theirs)
        kept = store.resolve_conflict(R1, "keep_mine")
        assert kept is not None
        assert (kept["envelope"]["base_revision"], kept["envelope"]["base_digest"]) == (2, digest(theirs))
        rebased = store.get_draft(R1)
        assert (rebased["revision"], rebased["base_digest"]) == (4, digest(kept["envelope"]))
    finally:
        store.close()


def test_an_edit_queued_by_an_older_app_names_its_base_by_digest_when_the_store_opens(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    store = LocalStore(folder)
    first = _check(1, 80)
    store.submit(first)
    store.submit(_check(2, 90))  # no base_digest given: named from the base this phone holds
    assert store.outbox()[1]["envelope"]["base_digest"] == digest(first)
    store.close()
    work = StoreFile(folder / "work.json")  # as an app without base digests left it
    key = f"{R1}#2"
    item = work.get("items", key)
    work.put("items", key, {**item, "envelope": {k: v for k, v in item["envelope"].items() if k != "base_digest"}})
    work.close()

    store = LocalStore(folder)
    try:
        assert store.outbox()[1]["envelope"]["base_digest"] == digest(first)
        assert any("names its base by digest" in note for note in store.recovery_report.reconciled)
    finally:
        store.close()
