"""Whatever the server accepts, the pull feed serves back (issue 7, hole 2): an admin writes every
accepted reference shape (each topic; the deepest, largest and widest payloads the limits allow;
astral, combining, right-to-left and zero-width text; the longest keys), a reviewer's decision
with such text reaches its author, and then a fresh phone pulls the whole feed and reads every
topic: every answer is 200 and holds exactly what was written. What the limits refuse is 422 and
leaves the ledger as it was.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from server.reference.feed import MAX_KEY, REFERENCE_TOPICS
from tests.support.live_server import LiveServer
from tests.support.records import member, reviewed_record
from xuncha_core.canonical import canonical_bytes
from xuncha_core.json_limits import MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_KEY_CHARS

EDGE_TEXT = [
    "😀🇨🇳𠀀𪚥",  # astral: emoji, a flag (two code points), CJK extension B
    "e\u0301 a\u0308\u0323 村\u0301",  # combining marks
    "\u202eعربي\u202c שלום \u200f",  # right-to-left text and marks
    "\u200b\u200c\u200d\u2060\ufeff",  # zero-width characters and the byte-order mark
    "\u2028\u2029\x85",  # line and paragraph separators, NEL
    "\uffff\ufffe\U0010ffff\U000e0001",  # noncharacters and a tag character: valid scalar values
    "\x00\x01\x1f\x7f",  # control characters, NUL too: kept as JSON escapes
    '"\\/<>&\'`${}',
    "",
]


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def exactly(size: int, char: str = "x") -> dict[str, Any]:
    """A payload whose canonical JSON is exactly ``size`` bytes."""
    shell = len(canonical_bytes({"t": ""}))
    n = (size - shell) // len(char.encode("utf-8"))
    payload = {"t": char * n}
    payload["t"] += "x" * (size - len(canonical_bytes(payload)))
    assert len(canonical_bytes(payload)) == size
    return payload


def accepted_shapes() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("plain", {"name": "连合村", "code": "500101"}),
        ("deepest", nested(MAX_DEPTH)),
        ("largest", exactly(MAX_DOCUMENT_BYTES)),
        ("largest-cjk", exactly(MAX_DOCUMENT_BYTES, "巡")),
        ("widest", {f"k{i}": i for i in range(4000)}),
        ("unicode", {text or "empty": text for text in EDGE_TEXT}),
        ("longest-payload-key", {"键" * MAX_KEY_CHARS: "𠀀" * 10}),
        (
            "numbers",
            {"max": 2**53 - 1, "min": -(2**53 - 1), "huge": 1.7976931348623157e308, "tiny": 5e-324,
             "negative-zero": -0.0, "tenth": 0.1, "list": [0, -1, 1.5, 1e21, 1e-7]},
        ),
        ("empty", {}),
        ("arrays", {"a": [[[]], [{}], [None, True, False, "", 0]]}),
    ]


EDGE_KEYS = ["𠀀" * MAX_KEY, "k" * MAX_KEY, "村\u0301\u200b😀", "\u202ev1\u202c", "a b"]


def put(c: httpx.Client, topic: str, key: str, payload: Any) -> httpx.Response:
    return c.put(f"/api/v1/reference/{topic}/{quote(key, safe='')}", json=payload)


def pull_everything(c: httpx.Client) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    after = 0
    while True:
        page = c.get("/api/v1/sync/changes", params={"after": after, "limit": 7})
        assert page.status_code == 200, page.text[:300]
        body = page.json()
        changes += body["changes"]
        after = body["next"]
        if not body["more"]:
            return changes


def test_every_accepted_reference_shape_comes_back_whole_through_the_feed(server: LiveServer) -> None:
    boss = member(server, "boss", "admin")
    written: dict[tuple[str, str], Any] = {}
    with boss.client() as c:
        for topic in REFERENCE_TOPICS:
            for name, payload in accepted_shapes():
                r = put(c, topic, name, payload)
                assert r.status_code == 201, (topic, name, r.text[:300])
                written[(topic, name)] = payload
            for key in EDGE_KEYS:
                assert put(c, topic, key, {"key": key}).status_code == 201, (topic, key)
                written[(topic, key)] = {"key": key}
            assert c.delete(f"/api/v1/reference/{topic}/plain").status_code == 200
            written[(topic, "plain")] = None
    reason = "".join(EDGE_TEXT).replace("\x00", "")[:2000]
    wang = reviewed_record(server, boss, reason)

    with wang.client() as c:  # a phone's first sync: everything from the start
        changes = pull_everything(c)
        latest: dict[tuple[str, str], Any] = {}
        for ch in changes:
            latest[(ch["topic"], ch["key"])] = None if ch["deleted"] else ch["payload"]
        reviews = [v for (topic, _k), v in latest.items() if topic == "review"]
        assert [r["reason"] for r in reviews] == [reason]
        assert {k: v for k, v in latest.items() if k[0] != "review"} == written
        for topic in REFERENCE_TOPICS:
            state = c.get(f"/api/v1/reference/{topic}")
            assert state.status_code == 200, state.text[:300]
            items = {item["key"]: item["payload"] for item in state.json()["items"]}
            assert items == {k: v for (t, k), v in written.items() if t == topic and v is not None}


def test_the_shapes_just_past_each_limit_are_refused_and_change_nothing(server: LiveServer) -> None:
    boss = member(server, "boss", "admin")
    size = int(httpx.get(f"{server.url}/api/v1/ledger/checkpoint").json()["size"])
    refused = [
        ("x", nested(MAX_DEPTH + 1), "reference.bad_payload"),
        ("x", exactly(MAX_DOCUMENT_BYTES + 1), "reference.bad_payload"),
        ("x", ["not", "an", "object"], "reference.bad_payload"),
        ("x", {"k" * (MAX_KEY_CHARS + 1): 1}, "request.bad_json"),  # no route takes such a key
        ("x", {"n": 2**53}, "request.bad_json"),
        ("k" * (MAX_KEY + 1), {"a": 1}, "request.invalid"),
        ("tab\tkey", {"a": 1}, "reference.bad_key"),
        (" padded", {"a": 1}, "reference.bad_key"),
    ]
    with boss.client() as c:
        for key, payload, code in refused:
            r = put(c, "setting", key, payload)
            assert (r.status_code, r.json()["error"]["code"]) == (422, code), (key[:20], r.text[:300])
        assert c.get("/api/v1/sync/changes", params={"after": 0}).json()["changes"] == []
    assert int(httpx.get(f"{server.url}/api/v1/ledger/checkpoint").json()["size"]) == size
