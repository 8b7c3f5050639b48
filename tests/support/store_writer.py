"""A child process that saves into a LocalStore in a loop, for the crash tests.

    python -m tests.support.store_writer FOLDER SEED

    python -m tests.support.store_writer FOLDER --receipts-killed-after K

Prints ``READY`` once the store is open, then for every operation a line
``BEGIN {op}`` before it starts and ``ACK {op}`` after the store call returned
(the moment the app would tell the user "saved"). The parent kills it with
SIGKILL at random moments and checks that every acknowledged save survived.
Besides drafts, submits and receipts (one at a time and a batch in one call, as sync
stores them) it marks photos uploaded in bulk, applies reviews, moves records between
months (a new revision about another month) and rebuilds the history index, so
kills also land in index writes and rebuilds.

The second form stores the receipts of the whole outbox with one ``record_receipts``
call and SIGKILLs itself right after the K-th store file it replaced (printing
``WROTE <file>`` for each), so a test can kill the bulk write at every step in turn.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import uuid
from typing import Any

from field_app.store import LocalStore, atomic_storage

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


def receipt(record_id: str, revision: int) -> dict[str, Any]:
    return {"record_id": record_id, "revision": revision, "received_at": "2025-05-14T01:30:00+00:00", "ledger_index": 7}


MONTHS = ("2025-04", "2025-05", "2025-06")


def draft(record_id: str, revision: int, n: int, month: str = "2025-05") -> dict[str, Any]:
    return {
        "record_id": record_id,
        "kind": "remediation_check",
        "revision": revision,
        "base_revision": None if revision == 1 else revision - 1,
        "content": {"n": n, "village_id": "v-1", "month": month, "note": "垃圾桶满溢 " * 5},
        "photos": [],
        "updated_at": "2025-05-14T09:30:00+08:00",
    }


def choose(store: LocalStore, rng: random.Random) -> dict[str, Any]:
    drafts = store.list_drafts()
    outbox = store.outbox()
    r = rng.random()
    if drafts and r < 0.3:
        d = rng.choice(drafts)
        return {"op": "draft", "rid": d["record_id"], "rev": d["revision"], "n": d["content"]["n"] + 1,
                "month": d["content"]["month"]}  # fmt: skip
    if drafts and r < 0.5:
        d = rng.choice(drafts)
        return {"op": "submit", "rid": d["record_id"], "rev": d["revision"], "n": d["content"]["n"],
                "month": d["content"]["month"]}  # fmt: skip
    if outbox and r < 0.62:
        item = outbox[0]
        content = item["envelope"]["content"]
        return {"op": "receipt", "rid": item["record_id"], "rev": item["revision"], "n": content["n"],
                "month": content["month"]}  # fmt: skip
    if outbox and r < 0.72:
        # a batch's receipts in one call, as the sync engine stores them; the month is the
        # history file each receipt goes to (receipts of one month land together)
        items = [[i["record_id"], i["revision"], i["envelope"]["content"]["n"], i["envelope"]["content"]["month"]]
                 for i in outbox[: rng.randint(2, 5)]]  # fmt: skip
        return {"op": "receipts", "rid": "", "rev": 0, "n": 0, "items": items}
    if r < 0.9:
        synced = [v for v in store.history() if v["state"] in ("synced", "approved", "sent_back")]
        if synced:
            v = rng.choice(synced)
            if r < 0.8:
                action = rng.choice(["approve", "send_back"])
                return {"op": "review", "rid": v["record_id"], "rev": v["revision"], "n": 0, "action": action}
            # a new revision about another month moves the record between month files
            return {"op": "draft", "rid": v["record_id"], "rev": v["revision"] + 1, "n": 0, "month": rng.choice(MONTHS)}
    if r < 0.94:
        return {"op": "reindex", "rid": "", "rev": 0, "n": 0}
    if r < 0.97:
        shas = sorted(f"{rng.getrandbits(256):064x}" for _ in range(rng.randint(1, 6)))
        return {"op": "uploads", "rid": "", "rev": 0, "n": 0, "shas": shas}
    return {"op": "draft", "rid": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "rev": 1, "n": 0,
            "month": rng.choice(MONTHS)}  # fmt: skip


def perform(store: LocalStore, op: dict[str, Any]) -> None:
    rid, rev, n = op["rid"], op["rev"], op["n"]
    if op["op"] == "draft":
        store.save_draft(draft(rid, rev, n, op["month"]))
    elif op["op"] == "submit":
        store.submit(envelope(rid, rev, draft(rid, rev, n, op["month"])["content"]))
    elif op["op"] == "receipt":
        store.record_receipt(rid, rev, receipt(rid, rev))
    elif op["op"] == "receipts":
        store.record_receipts([(rid, rev, receipt(rid, rev)) for rid, rev, _, _ in op["items"]])
    elif op["op"] == "uploads":
        store.mark_photos_uploaded(op["shas"], {sha: {"sha256": sha, "ledger_index": 7} for sha in op["shas"]})
    elif op["op"] == "review":
        store.apply_review(rid, rev, op["action"])
    elif op["op"] == "reindex":
        store.rebuild_history_index()


def receipts_killed_after(folder: str, writes: int) -> None:
    """Store every outbox revision's receipt in one call; SIGKILL after the ``writes``-th file."""
    store = LocalStore(folder)
    replace_file, done = atomic_storage.replace_file, [0]

    def replace_then_maybe_die(path: Any, content: Any, **kwargs: Any) -> Any:
        result = replace_file(path, content, **kwargs)
        done[0] += 1
        print("WROTE", os.path.relpath(path, folder), flush=True)
        if done[0] == writes:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    atomic_storage.replace_file = replace_then_maybe_die  # the storage's own writes, counted
    store.record_receipts([(i["record_id"], i["revision"], receipt(i["record_id"], i["revision"])) for i in store.outbox()])
    print("ACK", flush=True)


def main() -> None:
    if sys.argv[2] == "--receipts-killed-after":
        receipts_killed_after(sys.argv[1], int(sys.argv[3]))
        return
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
