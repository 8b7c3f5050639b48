"""A child process that saves into a LocalStore in a loop, for the crash tests.

    python -m tests.support.store_writer FOLDER SEED

Prints ``READY`` once the store is open, then for every operation a line
``BEGIN {op}`` before it starts and ``ACK {op}`` after the store call returned
(the moment the app would tell the user "saved"). The parent kills it with
SIGKILL at random moments and checks that every acknowledged save survived.
"""

from __future__ import annotations

import json
import random
import sys
import uuid
from typing import Any

from field_app.store import LocalStore

AUTHOR = "zhang.wei"
DEVICE = "phone-1"


def envelope(record_id: str, revision: int, content: dict[str, Any], photos: list[str] | None = None) -> dict[str, Any]:
    """A valid record envelope (xuncha_core.records) for tests."""
    return {
        "record_id": record_id,
        "kind": "remediation_check",
        "revision": revision,
        "base_revision": None if revision == 1 else revision - 1,
        "author": AUTHOR,
        "device_id": DEVICE,
        "device_time": "2025-05-14T09:30:00+08:00",
        "gps_time": None,
        "content": content,
        "photos": photos or [],
    }


def draft(record_id: str, revision: int, n: int) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "kind": "remediation_check",
        "revision": revision,
        "base_revision": None if revision == 1 else revision - 1,
        "content": {"n": n, "village_id": "v-1", "month": "2025-05", "note": "垃圾桶满溢 " * 5},
        "photos": [],
        "updated_at": "2025-05-14T09:30:00+08:00",
    }


def choose(store: LocalStore, rng: random.Random) -> dict[str, Any]:
    drafts = store.list_drafts()
    outbox = store.outbox()
    r = rng.random()
    if drafts and r < 0.35:
        d = rng.choice(drafts)
        return {"op": "draft", "rid": d["record_id"], "rev": d["revision"], "n": d["content"]["n"] + 1}
    if drafts and r < 0.6:
        d = rng.choice(drafts)
        return {"op": "submit", "rid": d["record_id"], "rev": d["revision"], "n": d["content"]["n"]}
    if outbox and r < 0.85:
        item = outbox[0]
        return {"op": "receipt", "rid": item["record_id"], "rev": item["revision"], "n": item["envelope"]["content"]["n"]}
    if r < 0.92:
        synced = [v for v in store.history() if v["state"] == "synced"]
        if synced:
            v = rng.choice(synced)
            return {"op": "draft", "rid": v["record_id"], "rev": v["revision"] + 1, "n": 0}
    return {"op": "draft", "rid": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "rev": 1, "n": 0}


def perform(store: LocalStore, op: dict[str, Any]) -> None:
    rid, rev, n = op["rid"], op["rev"], op["n"]
    if op["op"] == "draft":
        store.save_draft(draft(rid, rev, n))
    elif op["op"] == "submit":
        store.submit(envelope(rid, rev, draft(rid, rev, n)["content"]))
    elif op["op"] == "receipt":
        store.record_receipt(rid, rev, {"record_id": rid, "revision": rev, "received_at": "2025-05-14T01:30:00+00:00", "ledger_index": 7})


def main() -> None:
    folder, seed = sys.argv[1], int(sys.argv[2])
    rng = random.Random(seed)
    store = LocalStore(folder)
    print("READY", flush=True)
    while True:
        op = choose(store, rng)
        line = json.dumps(op, sort_keys=True)
        print(f"BEGIN {line}", flush=True)
        perform(store, op)
        print(f"ACK {line}", flush=True)


if __name__ == "__main__":
    main()
