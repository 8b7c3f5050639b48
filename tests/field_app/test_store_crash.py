"""The local store survives SIGKILL at any moment, a damaged file and leftover temp files (issue 3)."""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from copy import deepcopy
from pathlib import Path
from typing import Any

from field_app.store import LocalStore
from field_app.store.history_index import Summary, summarize
from tests.support.store_writer import MONTHS, draft, envelope, receipt

ROOT = Path(__file__).resolve().parents[2]
KILLS = 45
ALL_OPS = {"draft", "submit", "receipt", "receipts", "uploads", "review", "reindex"}

Model = dict[str, Any]


def empty_model() -> Model:
    return {"drafts": {}, "outbox": [], "history": {}, "reviews": {}, "uploaded": []}


def apply(model: Model, op: dict[str, Any]) -> Model:
    """What the store must hold after ``op`` (the parent's own account of every save)."""
    m = deepcopy(model)
    rid, rev, n = op["rid"], op["rev"], op["n"]
    if op["op"] == "draft":
        m["drafts"][rid] = [rev, n]
    elif op["op"] == "submit":
        m["outbox"].append([rid, rev, n])
        if m["drafts"].get(rid, [None])[0] == rev:
            del m["drafts"][rid]
    elif op["op"] == "receipt":
        m["outbox"].remove([rid, rev, n])
        m["history"].setdefault(rid, {})[str(rev)] = n
    elif op["op"] == "receipts":
        for rid, rev, n, _month in op["items"]:
            m["outbox"].remove([rid, rev, n])
            m["history"].setdefault(rid, {})[str(rev)] = n
    elif op["op"] == "uploads":
        m["uploaded"] = sorted(set(m["uploaded"]) | set(op["shas"]))
    elif op["op"] == "review":
        reviews = m["reviews"].setdefault(rid, [])
        if [rev, op["action"]] not in reviews:
            reviews.append([rev, op["action"]])
    return m


def observe(folder: Path) -> tuple[Model, LocalStore]:
    """What a freshly opened store holds, with every (record, revision) it holds anywhere."""
    store = LocalStore(folder)
    m = empty_model()
    places: list[tuple[str, int]] = []
    for d in store.list_drafts():
        m["drafts"][d["record_id"]] = [d["revision"], d["content"]["n"]]
        places.append((d["record_id"], d["revision"]))
    for item in store.outbox():
        m["outbox"].append([item["record_id"], item["revision"], item["envelope"]["content"]["n"]])
        places.append((item["record_id"], item["revision"]))
    for view in store.history():
        for rev, accepted in store.accepted_revisions(view["record_id"]).items():
            assert accepted["receipt"]["ledger_index"] == 7
            m["history"].setdefault(view["record_id"], {})[str(rev)] = accepted["envelope"]["content"]["n"]
            places.append((view["record_id"], rev))
        if view["reviews"]:
            m["reviews"][view["record_id"]] = [[r["revision"], r["action"]] for r in view["reviews"]]
    assert len(places) == len(set(places)), "a revision is kept twice (draft/outbox/history)"
    for path in sorted((folder / "photo_meta").glob("*.json")):
        for doc in json.loads(path.read_bytes()).get("photos", {}).values():
            assert store.photo(doc["key"])["upload_receipt"] == {"sha256": doc["key"], "ledger_index": 7}
            m["uploaded"].append(doc["key"])
    m["uploaded"].sort()
    return m, store


def subsets(groups: list[list[Any]]) -> list[list[Any]]:
    """Every union of whole groups (none of them to all of them)."""
    return [[x for i, g in enumerate(groups) if mask >> i & 1 for x in g] for mask in range(1 << len(groups))]


def possible_after(model: Model, pending: dict[str, Any] | None) -> list[Model]:
    """What the store may hold after a kill during ``pending``: before or after it, and for the
    two bulk writes exactly what LocalStore documents, no more. A bulk upload mark is one write
    per metadata shard, each mark true on its own: any part of it. A batch of receipts is one
    atomic write per history month file, receipts before the outbox write: each month's
    receipts are stored (and leave the outbox at open) together or not at all, any months."""
    if pending is None:
        return [model]
    if pending["op"] == "uploads":
        return [apply(model, {**pending, "shas": part}) for part in subsets([[s] for s in pending["shas"]])]
    if pending["op"] == "receipts":
        by_month: dict[str, list[Any]] = {}
        for item in pending["items"]:
            by_month.setdefault(item[3], []).append(item)
        return [apply(model, {**pending, "items": part}) for part in subsets(list(by_month.values()))]
    return [model, apply(model, pending)]


class Child:
    """The writer process and the lines it printed, read on a thread."""

    def __init__(self, folder: Path, seed: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.store_writer", str(folder), str(seed)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("READY"):
                self.ready.set()

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._reader.join(timeout=30)
        assert self.proc.returncode == -signal.SIGKILL, self.proc.stderr.read() if self.proc.stderr else ""


def summaries_from_month_files(folder: Path) -> dict[str, Summary]:
    """What the index must say, worked out from the month files alone (read straight from disk)."""
    out: dict[str, Summary] = {}
    for path in sorted((folder / "history").glob("*.json")):
        for doc in json.loads(path.read_bytes()).get("records", {}).values():
            assert doc["key"] not in out, f"record {doc['key']} is in two month files"
            out[doc["key"]] = summarize(doc["value"], path.stem)
    return out


def summaries_on_disk(folder: Path) -> dict[str, Summary]:
    """What the index shards on disk say."""
    out: dict[str, Summary] = {}
    for path in sorted((folder / "history_index").glob("*.json")):
        for doc in json.loads(path.read_bytes()).get("summary", {}).values():
            for rid, row in doc["value"].items():
                out[rid] = Summary.from_row(path.stem, row)
    return out


def assert_index_agrees(folder: Path, store: LocalStore) -> None:
    """After a restart the index, in memory and on disk, says exactly what the month files hold."""
    expected = summaries_from_month_files(folder)
    assert summaries_on_disk(folder) == expected, "the index files disagree with the month files"
    assert store._history.summaries() == expected, "the opened store's index disagrees with the month files"
    in_hand = {d["record_id"] for d in store.list_drafts()} | {i["record_id"] for i in store.outbox()}
    for month in MONTHS:
        listed = {v["record_id"] for v in store.history(month=month) if v["record_id"] not in in_hand}
        assert listed == {rid for rid, s in expected.items() if s.month == month and rid not in in_hand}


def damage_index(folder: Path, rng: random.Random) -> str:
    """Make the index stale, missing or unreadable, as a kill or a bad card could."""
    shards = sorted((folder / "history_index").glob("*.json"))
    if not shards:
        return "none"
    victim = rng.choice(shards)
    how = rng.choice(["delete", "truncate", "garble"])
    if how == "delete":
        victim.unlink()
    elif how == "truncate":
        victim.write_bytes(victim.read_bytes()[: rng.randrange(max(1, victim.stat().st_size))])
    else:
        victim.write_bytes(b'{"summary": {"1": {"key": "records", "value": {"x": [1]}}}}')
    return how


def test_every_acknowledged_save_survives_sigkill_at_random_moments(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    rng = random.Random(20250514)
    model = empty_model()
    acked_total = in_flight_runs = landed = partly = rebuilt_at_start = between_writes = 0
    ops_seen: set[str] = set()
    killed_in: dict[str, int] = {}
    def covered() -> bool:
        return in_flight_runs > KILLS // 2 and between_writes > 0 and ops_seen >= ALL_OPS

    # At least KILLS kills; on a loaded machine more, until enough have landed mid-save (the
    # moments are random, so how many land in a write depends on how fast the writer runs).
    for run in range(KILLS * 3):
        if run >= KILLS and covered():
            break
        if run and rng.random() < 0.25:
            damage_index(folder, rng)  # the next start must rebuild it, and may be killed doing so
        child = Child(folder, seed=rng.randrange(1 << 30))
        if rng.random() < 0.2:
            time.sleep(rng.uniform(0.0, 0.5))  # the kill's random moment: sometimes during start-up and its repairs
        else:
            assert child.ready.wait(timeout=30), "the writer did not start"
            time.sleep(rng.uniform(0.0, 0.25))  # the kill's random moment, somewhere in its writes
        child.kill()

        pending = None
        for line in child.lines:
            word, _, payload = line.partition(" ")
            if word == "BEGIN":
                pending = json.loads(payload)
                ops_seen.add(pending["op"])
            elif word == "ACK":
                assert json.loads(payload) == pending
                model = apply(model, pending)
                acked_total += 1
                pending = None
        candidates = possible_after(model, pending)
        actual, store = observe(folder)
        assert store.recovery_report.ok, store.recovery_report.as_dict()
        assert not list(folder.rglob("*.tmp")), "a temp file survived the start"
        assert_index_agrees(folder, store)
        rebuilt_at_start += bool(store.recovery_report.reindexed)
        between_writes += any("older than its month file" in n for n in store.recovery_report.reindexed)
        store.close()
        assert actual in candidates, f"run {run}: lost or invented a save; in flight: {pending}"
        if pending is not None:
            in_flight_runs += 1
            killed_in[pending["op"]] = killed_in.get(pending["op"], 0) + 1
            landed += actual != model
            partly += actual not in (model, apply(model, pending))
        model = actual
    assert acked_total > KILLS * 3, "the writer barely saved anything; the test proves little"
    assert in_flight_runs > KILLS // 2, "the kills did not land while saving"
    assert ops_seen >= ALL_OPS, ops_seen
    assert between_writes > 0, "no kill landed between a month file and its index write; the test proves little"
    print(
        f"{run + 1} kills, {acked_total} acknowledged saves, {in_flight_runs} kills mid-save, {landed} of them landed "
        f"({partly} of a bulk write in part), "
        f"{rebuilt_at_start} starts rebuilt index shards ({between_writes} after a kill between a month file and its index); "
        f"ops: {sorted(ops_seen)}; kills mid-op: {dict(sorted(killed_in.items()))}"
    )


def test_a_batch_of_receipts_killed_after_each_file_write_keeps_every_month_whole(tmp_path: Path) -> None:
    """record_receipts killed right after each file it writes, in turn: the months written
    keep their receipts (those revisions leave the outbox at open), the rest stay in the
    outbox untouched; nothing is lost, nothing kept twice, and the index agrees."""
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(6)]
    months = ["2025-06", "2025-04", "2025-05", "2025-04", "2025-06"]
    start = tmp_path / "start"
    store = LocalStore(start)
    store.submit(envelope(ids[5], 1, draft(ids[5], 1, 50, "2025-04")["content"]))
    store.record_receipt(ids[5], 1, receipt(ids[5], 1))
    for i, (rid, month) in enumerate(zip(ids, months, strict=False)):
        store.submit(envelope(rid, 1, draft(rid, 1, i, month)["content"]))
    # revision 2 is about another month: its receipt moves the record from 2025-04 to 2025-05
    store.submit(envelope(ids[5], 2, draft(ids[5], 2, 51, "2025-05")["content"]))
    items = [[i["record_id"], i["revision"], i["envelope"]["content"]["n"], i["envelope"]["content"]["month"]]
             for i in store.outbox()]  # fmt: skip
    before, _ = observe(start)
    store.close()
    batch = {"op": "receipts", "rid": "", "rev": 0, "n": 0, "items": items}
    everything = apply(before, batch)

    outcomes, wrote = [], []
    for writes in range(1, 40):
        folder = tmp_path / f"kill-{writes}"
        shutil.copytree(start, folder)
        child = subprocess.run(
            [sys.executable, "-m", "tests.support.store_writer", str(folder), "--receipts-killed-after", str(writes)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        finished = "ACK" in child.stdout.split()
        assert finished or child.returncode == -signal.SIGKILL, child.stderr
        wrote = [line.split()[1] for line in child.stdout.splitlines() if line.startswith("WROTE")]
        actual, reopened = observe(folder)
        assert reopened.recovery_report.ok, reopened.recovery_report.as_dict()
        assert_index_agrees(folder, reopened)
        reopened.close()
        assert actual in possible_after(before, batch), f"killed after {wrote[-1:]}: lost or invented a receipt"
        outcomes.append(sorted(rid for rid, rev, _, _ in items if str(rev) in actual["history"].get(rid, {})))
        if finished:
            break
    assert finished, "record_receipts never finished"
    assert actual == everything
    assert outcomes[-1] == sorted(i[0] for i in items)
    assert wrote[-1] == "work.json", "the revisions must leave the outbox last, after every receipt is stored"
    assert any(0 < len(o) < len(items) for o in outcomes), "no kill left the batch in part; the test proves little"
    assert all(set(a) <= set(b) for a, b in itertools.pairwise(outcomes)), "a later kill kept fewer receipts"
    print("receipts kept after each kill:", [len(o) for o in outcomes], "files written:", wrote)


def test_a_damaged_file_is_moved_aside_reported_and_its_complete_records_recovered(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    store = LocalStore(folder)
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(8)]
    for i, rid in enumerate(ids):
        store.submit(envelope(rid, 1, {"n": i, "month": "2025-05" if i < 6 else "2025-04"}))
        store.record_receipt(rid, 1, {"received_at": "2025-05-14T01:30:00+00:00", "ledger_index": i})
    store.save_draft(draft(ids[0], 2, 0))
    store.set_setting("server_url", "https://xuncha.example.cn")
    store.close()

    damaged = folder / "history" / "2025-05.json"
    whole = damaged.read_bytes()
    damaged.write_bytes(whole[: int(len(whole) * 0.7)])  # as if the card lost the tail

    store = LocalStore(folder)
    report = store.recovery_report
    assert not report.ok
    [moved] = report.moved
    assert moved.file == str(Path("history") / "2025-05.json")
    assert moved.moved_to.startswith(str(Path("history") / "2025-05.json.corrupt-"))
    assert (folder / moved.moved_to).read_bytes() == whole[: int(len(whole) * 0.7)]
    kept = {
        v["record_id"]: store.accepted_revisions(v["record_id"])[1]
        for v in store.history()
        if v["synced_revision"] is not None
    }
    assert 2 <= moved.recovered < 6
    assert len(kept) == moved.recovered + 2, "the other month's records must be untouched"
    for i, rid in enumerate(ids):
        if rid in kept:
            assert kept[rid]["envelope"]["content"]["n"] == i and kept[rid]["receipt"]["ledger_index"] == i
    assert {ids[6], ids[7]} <= set(kept)
    assert store.get_draft(ids[0]) == draft(ids[0], 2, 0)
    assert store.get_setting("server_url") == "https://xuncha.example.cn"
    store.close()

    assert LocalStore(folder).recovery_report.ok, "the repaired store is reported damaged again"


def test_a_file_that_is_not_json_at_all_is_set_aside_and_the_app_still_starts(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    LocalStore(folder).set_setting("language", "zh")
    (folder / "work.json").write_bytes(b"\x00\x00\x00\x00 garbage")
    store = LocalStore(folder)
    [moved] = store.recovery_report.moved
    assert (moved.file, moved.recovered) == ("work.json", 0)
    assert "not valid JSON" in moved.reason
    assert store.outbox() == []
    assert store.get_setting("language") == "zh"
    assert store.submit(envelope("00000000-0000-4000-8000-000000000001", 1, {"n": 1})) is not None


def test_leftover_temp_files_are_removed_at_start_and_reported(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    LocalStore(folder).save_draft(draft("00000000-0000-4000-8000-000000000001", 1, 1))
    (folder / ".work.json.k3j2h1.tmp").write_bytes(b'{"drafts": {"1": {"key"')
    (folder / "history").mkdir(exist_ok=True)
    (folder / "history" / ".2025-05.json.abc.tmp").write_bytes(b"")
    store = LocalStore(folder)
    assert sorted(store.recovery_report.temp_files_removed) == sorted(
        [".work.json.k3j2h1.tmp", str(Path("history") / ".2025-05.json.abc.tmp")]
    )
    assert store.recovery_report.ok
    assert not list(folder.rglob("*.tmp"))
    assert [d["content"]["n"] for d in store.list_drafts()] == [1]
