"""Record intake: new revisions, identical replays, conflicts, missing bases, batches, races."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from tests.support.live_server import LiveServer
from tests.support.records import Member, member, recheck_content, remediation_content
from xuncha_core.canonical import canonical_bytes
from xuncha_core.merkle import leaf_hash


def _count(server: LiveServer, sql: str) -> int:
    return int(server.scalar(sql))

def _ledger_entry(server: LiveServer, index: int) -> tuple[str, bytes, Any]:
    """The entry's hashed text, its leaf hash, and the content kept beside it."""
    (row,) = server.rows(
        "SELECT e.entry, e.leaf_hash, c.content FROM ledger_entries e "
        "JOIN ledger_contents c ON c.idx = e.idx WHERE e.idx = :i",
        {"i": index},
    )
    return row.entry, bytes(row.leaf_hash), json.loads(row.content)

def test_a_new_record_gets_a_receipt_whose_ledger_entry_holds_it(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    env = wang.envelope()
    with wang.client() as c:
        r = c.post("/api/v1/records", json=env)
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["record_id"] == env["record_id"] and receipt["revision"] == 1
    assert receipt["replayed"] is False and receipt["photos_missing"] == []
    assert receipt["digest"] == __import__("hashlib").sha256(canonical_bytes(env)).hexdigest()
    entry_text, leaf, content = _ledger_entry(server, receipt["ledger_index"])
    entry = json.loads(entry_text)
    assert entry["type"] == "record.accepted" and content == env
    assert entry["record"] == {"record_id": env["record_id"], "revision": 1}
    assert entry["received_at"] == receipt["received_at"] and entry["digest"] == receipt["digest"]
    assert leaf.hex() == receipt["leaf_hash"] == leaf_hash(entry_text.encode()).hex()


def test_an_identical_replay_answers_the_original_receipt_and_writes_nothing(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    env = wang.envelope()
    with wang.client() as c:
        first = c.post("/api/v1/records", json=env).json()
        size = _count(server, "SELECT COUNT(*) FROM ledger_entries")
        again = c.post("/api/v1/records", json=env)
    assert again.status_code == 200
    assert {**again.json(), "replayed": False} == first and again.json()["replayed"] is True
    assert _count(server, "SELECT COUNT(*) FROM ledger_entries") == size
    assert _count(server, "SELECT COUNT(*) FROM record_revisions") == 1


def test_different_content_under_the_same_revision_is_a_conflict_showing_the_servers_version(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    env = wang.envelope()
    other = {**env, "content": remediation_content(note="changed my mind")}
    with wang.client() as c:
        c.post("/api/v1/records", json=env)
        r = c.post("/api/v1/records", json=other)
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "record.revision_conflict" and err["message_zh"]
    assert err["detail"]["server_revision"] == 1 and err["detail"]["server_envelope"] == env
    assert _count(server, "SELECT COUNT(*) FROM record_revisions") == 1


def test_an_edit_whose_base_is_not_on_the_server_is_refused_until_the_base_arrives(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    first = wang.envelope()
    second = wang.envelope(base=first, content=remediation_content(note="fixed"))
    with wang.client() as c:
        early = c.post("/api/v1/records", json=second)
        assert early.status_code == 409 and early.json()["error"]["code"] == "record.base_missing"
        assert c.post("/api/v1/records", json=first).status_code == 201
        assert c.post("/api/v1/records", json=second).status_code == 201
        record = c.get(f"/api/v1/records/{first['record_id']}").json()
    assert record["head_revision"] == 2
    assert [rev["envelope"]["revision"] for rev in record["revisions"]] == [1, 2]
    assert record["revisions"][1]["envelope"]["content"]["note"] == "fixed"


def test_records_can_only_be_sent_as_oneself_from_ones_own_device(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    li = member(server, "li", "officer")
    with wang.client() as c:
        as_li = c.post("/api/v1/records", json={**wang.envelope(), "author": "li"})
        other_device = c.post("/api/v1/records", json={**wang.envelope(), "device_id": li.device_id})
    for r in (as_li, other_device):
        assert r.status_code == 403 and r.json()["error"]["code"] == "record.author_mismatch"
    assert _count(server, "SELECT COUNT(*) FROM record_revisions") == 0


def test_a_malformed_record_is_refused_naming_each_problem_and_nothing_is_stored(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    bad = {**wang.envelope(), "record_id": "not-a-uuid", "revision": 0, "device_time": "yesterday"}
    with wang.client() as c:
        size = _count(server, "SELECT COUNT(*) FROM ledger_entries")
        r = c.post("/api/v1/records", json=bad)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "record.invalid"
    assert {"record_id", "revision", "device_time"} <= {p["path"] for p in err["detail"]["problems"]}
    assert _count(server, "SELECT COUNT(*) FROM ledger_entries") == size


def test_the_server_stamps_its_own_time_and_ignores_a_wrong_device_clock(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    old = wang.envelope(device_time="2000-01-01T00:00:00+08:00")
    new = wang.envelope(device_time="2031-01-01T00:00:00+08:00")
    with wang.client() as c:
        a = c.post("/api/v1/records", json=new).json()
        b = c.post("/api/v1/records", json=old).json()
        listed = c.get("/api/v1/records").json()["records"]
        record = c.get(f"/api/v1/records/{old['record_id']}").json()
    assert a["received_at"] < b["received_at"] and b["received_at"] > "2020"
    # newest received first, whatever the device clock said
    assert [x["record_id"] for x in listed] == [old["record_id"], new["record_id"]]
    assert record["revisions"][0]["envelope"]["device_time"] == "2000-01-01T00:00:00+08:00"


def test_a_field_user_sees_only_their_own_records(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    li = member(server, "li", "officer")
    clerk = member(server, "zhao", "office_reviewer")
    with wang.client() as c:
        mine = c.post("/api/v1/records", json=wang.envelope()).json()
    with li.client() as c:
        c.post("/api/v1/records", json=li.envelope())
        assert c.get(f"/api/v1/records/{mine['record_id']}").status_code == 403
        assert [x["author"] for x in c.get("/api/v1/records").json()["records"]] == ["li"]
        assert c.get("/api/v1/records", params={"author": "wang"}).status_code == 403
    with clerk.client() as c:
        assert sorted(x["author"] for x in c.get("/api/v1/records").json()["records"]) == ["li", "wang"]
        assert c.get(f"/api/v1/records/{mine['record_id']}").status_code == 200


def test_record_list_pages_without_repeats_and_filters_by_village_and_month(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    sent = []
    with wang.client() as c:
        for i in range(7):
            env = wang.envelope(content=remediation_content(village_id=f"v{i % 2}", month="2025-0" + str(4 + i % 3)))
            sent.append(c.post("/api/v1/records", json=env).json()["record_id"])
        seen: list[str] = []
        after = None
        while True:
            page = c.get("/api/v1/records", params={"limit": 3, **({"after": after} if after else {})}).json()
            seen += [x["record_id"] for x in page["records"]]
            after = page["next"]
            if after is None:
                break
        v0 = c.get("/api/v1/records", params={"village_id": "v0", "month": "2025-04"}).json()["records"]
    assert seen == list(reversed(sent))
    assert {x["record_id"] for x in v0} == {sent[0], sent[6]}


def test_a_batch_judges_each_record_alone_and_a_replayed_batch_gets_the_same_receipts(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    first = wang.envelope()
    items: list[Any] = [
        first,
        wang.envelope(base=first, content=remediation_content(note="2")),
        {**wang.envelope(), "author": "somebody"},
        {"kind": "nonsense"},
        wang.envelope(),
    ]
    with wang.client() as c:
        one = c.post("/api/v1/records/batch", json={"records": items})
        two = c.post("/api/v1/records/batch", json={"records": items})
    assert one.status_code == two.status_code == 200
    r1, r2 = one.json()["results"], two.json()["results"]
    assert [x["status"] for x in r1] == [201, 201, 403, 422, 201]
    assert [x["status"] for x in r2] == [200, 200, 403, 422, 200]
    assert r1[3]["error"]["code"] == "record.invalid"
    for a, b in zip(r1, r2, strict=True):
        if "receipt" in a:
            assert {**b["receipt"], "replayed": False} == a["receipt"]
    assert _count(server, "SELECT COUNT(*) FROM record_revisions") == 3


def test_a_batch_over_200_records_is_refused_whole(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    with wang.client() as c:
        r = c.post("/api/v1/records/batch", json={"records": [wang.envelope() for _ in range(201)]})
    assert r.status_code == 422
    assert _count(server, "SELECT COUNT(*) FROM record_revisions") == 0


def _race(member_: Member, bodies: list[dict[str, Any]]) -> list[int]:
    statuses: list[int] = []
    gate = threading.Barrier(len(bodies))

    def send(body: dict[str, Any]) -> None:
        with member_.client() as c:
            gate.wait()
            statuses.append(c.post("/api/v1/records", json=body).status_code)

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return sorted(statuses)


def test_the_same_record_sent_at_the_same_moment_is_stored_once(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    env = wang.envelope()
    assert _race(wang, [env] * 8) == [200] * 7 + [201]
    rival = wang.envelope()
    bodies = [{**rival, "content": remediation_content(note=str(i))} for i in range(8)]
    assert _race(wang, bodies) == [201] + [409] * 7
    assert _count(server, "SELECT COUNT(*) FROM record_revisions") == 2
    assert _count(server, "SELECT COUNT(*) FROM ledger_entries WHERE entry LIKE '%record.accepted%'") == 2


def test_a_new_revision_after_send_back_is_submitted_for_review_again(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    clerk = member(server, "zhao", "office_reviewer")
    env = wang.pushed()
    with clerk.client() as c:
        r = c.post(f"/api/v1/records/{env['record_id']}/reviews",
                   json={"revision": 1, "action": "send_back", "reason": "照片不清楚"})
        assert r.status_code == 201
    with wang.client() as c:
        assert c.get(f"/api/v1/records/{env['record_id']}").json()["review_state"] == "sent_back"
        fix = wang.envelope(base=env, content=remediation_content(note="重拍"))
        assert c.post("/api/v1/records", json=fix).status_code == 201
        assert c.get(f"/api/v1/records/{env['record_id']}").json()["review_state"] == "submitted"


def test_only_the_author_may_send_a_new_revision(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    li = member(server, "li", "supervisor")
    env = wang.pushed()
    with li.client() as c:
        r = c.post("/api/v1/records", json=li.envelope(base=env))
    assert r.status_code == 403 and r.json()["error"]["code"] == "record.not_author"


def test_sixteen_phones_sending_at_once_each_get_the_right_answer_and_nothing_else_is_stored(
    server: LiveServer,
) -> None:
    """Singles sent together are stored together (group commit), yet each is judged alone:
    replays, conflicts and refusals mixed in change nothing for their neighbours."""
    wang = member(server, "wang", "supervisor")
    threads_n = 16
    same = [wang.envelope() for _ in range(2)]  # every thread sends these, identical
    contested = [wang.envelope() for _ in range(2)]  # every thread sends these, in one of 4 versions
    unique = [[wang.envelope() for _ in range(5)] for _ in range(threads_n)]
    answers: dict[int, list[tuple[str, dict[str, Any], int, dict[str, Any]]]] = {}
    gate = threading.Barrier(threads_n)

    def version(env: dict[str, Any], i: int) -> dict[str, Any]:
        return {**env, "content": remediation_content(note=f"version {i % 4}")}

    def send(i: int) -> None:
        bodies = [("same", e) for e in same] + [("contested", version(e, i)) for e in contested]
        bodies += [("unique", e) for e in unique[i]]
        bodies += [("invalid", {**wang.envelope(), "content": {"village_id": "v-lianhe"}}),
                   ("not_mine", {**wang.envelope(), "author": "li"})]
        bodies = bodies[i % len(bodies):] + bodies[:i % len(bodies)]  # each thread in its own order
        out = []
        with wang.client() as c:
            gate.wait()
            for kind, body in bodies:
                r = c.post("/api/v1/records", json=body)
                out.append((kind, body, r.status_code, r.json()))
        answers[i] = out

    threads = [threading.Thread(target=send, args=(i,)) for i in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert len(answers) == threads_n
    flat = [a for out in answers.values() for a in out]

    by_key: dict[str, list[tuple[str, dict[str, Any], int, dict[str, Any]]]] = {}
    for kind, body, status, answer in flat:
        if kind == "invalid":
            assert (status, answer["error"]["code"]) == (422, "record.invalid")
        elif kind == "not_mine":
            assert (status, answer["error"]["code"]) == (403, "record.author_mismatch")
        else:
            by_key.setdefault(body["record_id"], []).append((kind, body, status, answer))

    stored_receipts: list[dict[str, Any]] = []
    for sends in by_key.values():
        winners = [(body, answer) for _k, body, status, answer in sends if status == 201]
        assert len(winners) == 1, [s for _k, _b, s, _a in sends]
        won, receipt = winners[0]
        stored_receipts.append(receipt)
        for _kind, body, status, answer in sends:
            if body == won:
                assert status in (200, 201) and {**answer, "replayed": False} == receipt
            else:
                assert status == 409 and answer["error"]["code"] == "record.revision_conflict"
                assert answer["error"]["detail"]["server_envelope"] == won
    assert len(by_key) == 2 + 2 + threads_n * 5
    assert sorted(len(s) for s in by_key.values()) == [1] * (threads_n * 5) + [threads_n] * 4

    # Exactly the winners are stored, each under the ledger entry its receipt names.
    assert _count(server, "SELECT COUNT(*) FROM record_revisions") == len(by_key)
    assert _count(server, "SELECT COUNT(*) FROM records") == len(by_key)
    assert _count(server, "SELECT COUNT(*) FROM ledger_entries WHERE entry LIKE '%record.accepted%'") == len(by_key)
    assert len({r["ledger_index"] for r in stored_receipts}) == len(by_key)
    winners_by_id = {b["record_id"]: b for s in by_key.values() for _k, b, st, _a in s if st == 201}
    for receipt in stored_receipts:
        text, leaf, content = _ledger_entry(server, receipt["ledger_index"])
        assert leaf.hex() == receipt["leaf_hash"] == leaf_hash(text.encode()).hex()
        assert content == winners_by_id[receipt["record_id"]]


def test_a_new_revisions_receipt_names_exactly_the_photos_the_server_lacks_sorted(
    server: LiveServer,
) -> None:
    from tests.support.phone import small_jpeg

    wang = member(server, "wang", "supervisor")
    photos = {hashlib.sha256(data).hexdigest(): data for data in map(small_jpeg, range(3))}
    held = min(photos)
    with wang.client() as c:
        assert c.put(f"/api/v1/photos/{held}", content=photos[held]).status_code == 201
        shas = sorted(photos, reverse=True)  # named out of order: the receipt sorts them
        env = wang.envelope(kind="recheck", content=recheck_content(shas), photos=shas)
        receipt = c.post("/api/v1/records", json=env).json()
        assert receipt["photos_missing"] == sorted(set(photos) - {held})
        stored = c.get(f"/api/v1/records/{env['record_id']}").json()
        assert stored["photos_missing"] == receipt["photos_missing"]
        replay = c.post("/api/v1/records", json=env).json()
    assert replay["replayed"] is True and replay["photos_missing"] == receipt["photos_missing"]
