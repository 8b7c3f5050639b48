"""The TinyDB storages under the local store: atomic file writes, batches, salvage (issue 3)."""

from __future__ import annotations

import json
import os
import resource
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from field_app.store.atomic_storage import AtomicJSONStorage, CorruptStoreFile, encode
from field_app.store.recovery import RecoveryReport, remove_temp_files, salvage
from field_app.store.store_file import Shelf, StoreFile


@pytest.fixture(params=["memory", "json"])
def store_file(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFile]:
    """The same tests on the in-memory twin and on the atomic JSON file."""
    f = StoreFile(None if request.param == "memory" else tmp_path / "drafts.json")
    yield f
    f.close()


def reopen(f: StoreFile) -> StoreFile:
    """The file as a fresh process would see it (the memory twin is its own truth)."""
    return f if f.path is None else StoreFile(f.path)


def test_saved_values_come_back_and_survive_a_reopen(store_file: StoreFile) -> None:
    store_file.put("drafts", "r1", {"village": "石桥村", "score": 92.5})
    store_file.put("drafts", "r2", {"village": "龙潭社区", "score": 88})
    store_file.put("drafts", "r1", {"village": "石桥村", "score": 91})
    again = reopen(store_file)
    assert again.items("drafts") == [
        ("r1", {"village": "石桥村", "score": 91}),
        ("r2", {"village": "龙潭社区", "score": 88}),
    ]
    assert again.get("drafts", "missing", "none") == "none"


def test_changing_a_returned_value_does_not_change_the_store(store_file: StoreFile) -> None:
    store_file.put("drafts", "r1", {"deductions": [{"points": 1}]})
    got = store_file.get("drafts", "r1")
    got["deductions"].append({"points": 6})
    assert store_file.get("drafts", "r1") == {"deductions": [{"points": 1}]}


def test_a_batch_is_stored_whole_or_not_at_all(store_file: StoreFile) -> None:
    store_file.put("village", "v1", {"name": "石桥村"})
    with store_file.batch():
        store_file.put("village", "v2", {"name": "龙潭社区"})
        store_file.delete("village", "v1")
        store_file.put("_cursor", "cursor", 42)
    with pytest.raises(RuntimeError), store_file.batch():
        store_file.put("village", "v3", {"name": "半途村"})
        store_file.put("_cursor", "cursor", 43)
        raise RuntimeError("killed mid-page")
    for f in (store_file, reopen(store_file)):
        assert f.items("village") == [("v2", {"name": "龙潭社区"})]
        assert f.get("_cursor", "cursor") == 42


def test_a_value_that_is_not_json_is_refused_and_changes_nothing(store_file: StoreFile) -> None:
    store_file.put("drafts", "r1", {"n": 1})
    with pytest.raises(TypeError):
        store_file.put("drafts", "r2", {"when": object()})
    assert reopen(store_file).items("drafts") == [("r1", {"n": 1})]


def test_a_missing_file_reads_as_an_empty_store(tmp_path: Path) -> None:
    storage = AtomicJSONStorage(tmp_path / "absent.json")
    assert storage.read() == {}
    assert not (tmp_path / "absent.json").exists(), "reading must not create the file"


def test_a_write_replaces_the_file_instead_of_rewriting_it_in_place(tmp_path: Path) -> None:
    path = tmp_path / "outbox.json"
    f = StoreFile(path)
    f.put("items", "a", {"n": 1})
    os.link(path, tmp_path / "old-version")  # a reader holding the old file
    f.put("items", "b", {"n": 2})
    assert json.loads((tmp_path / "old-version").read_text())["items"]["1"]["value"] == {"n": 1}
    assert len(json.loads(path.read_text())["items"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old-version", "outbox.json"], "a temp file was left"


def test_a_write_that_fails_midway_leaves_the_file_the_cache_and_the_folder_as_they_were(
    tmp_path: Path,
) -> None:
    path = tmp_path / "settings.json"
    f = StoreFile(path)
    f.put("settings", "language", "zh")
    before = path.read_bytes()
    # A real failure in the middle of writing: the kernel refuses bytes past a size
    # limit (EFBIG), as a full disk refuses them (ENOSPC).
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) + 100, hard))
    try:
        with pytest.raises(OSError):
            f.put("settings", "photo_note", "照片" * 500)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert path.read_bytes() == before
    assert f.get("settings", "photo_note") is None
    assert f.get("settings", "language") == "zh"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"], "the temp file was left behind"


def test_reading_a_damaged_file_raises_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "drafts.json"
    path.write_bytes(b'{"drafts": {"1": {"key": "r1", "val')
    with pytest.raises(CorruptStoreFile) as info:
        AtomicJSONStorage(path).read()
    assert info.value.code == "store.corrupt_file"
    assert "drafts.json" in info.value.message


def documents(n: int) -> dict[str, dict[str, dict]]:
    return {
        "drafts": {str(i): {"key": f"r{i}", "value": {"note": "河面漂浮物 " * i, "n": i}} for i in range(1, n + 1)},
        "counter": {"1": {"key": "seq", "value": n}},
    }


def test_salvage_of_a_truncated_file_keeps_every_complete_document_and_invents_none() -> None:
    whole = encode(documents(8))
    complete = documents(8)
    for cut in range(len(whole)):
        got = salvage(whole[:cut])
        for table, docs in got.items():
            for doc_id, doc in docs.items():
                assert complete[table][doc_id] == doc, f"cut at {cut} invented {doc}"
    assert salvage(whole) == complete
    half = salvage(whole[: len(whole) // 2])
    assert 3 <= len(half["drafts"]) < 8


def test_salvage_skips_a_garbled_document_and_keeps_those_after_it() -> None:
    whole = encode(documents(6)).decode()
    start = whole.index('"3":')
    garbled = whole[: start + 10] + "\x00\x00}}garbage{{" + whole[start + 30 :]
    got = salvage(garbled.encode())
    assert sorted(got["drafts"], key=int) == ["1", "2", "4", "5", "6"]
    assert got["counter"] == documents(6)["counter"]


def test_a_damaged_file_is_moved_aside_when_opened_and_sound_ones_are_left_alone(tmp_path: Path) -> None:
    sound = encode(documents(2))
    (tmp_path / "settings.json").write_bytes(sound)
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "2025-04.json").write_bytes(encode(documents(5))[:-40])
    (tmp_path / "history" / ".2025-04.json.x1.tmp").write_bytes(b"{")
    report = RecoveryReport()
    remove_temp_files(tmp_path, report)
    shelf = Shelf(tmp_path, report)
    assert shelf.open("settings.json").items("drafts") == [(f"r{i}", documents(2)["drafts"][str(i)]["value"]) for i in (1, 2)]
    assert (tmp_path / "settings.json").read_bytes() == sound
    history = shelf.open("history/2025-04.json")
    assert report.temp_files_removed == [str(Path("history") / ".2025-04.json.x1.tmp")]
    [moved] = report.moved
    assert moved.file == str(Path("history") / "2025-04.json")
    assert (tmp_path / moved.moved_to).read_bytes() == encode(documents(5))[:-40]
    assert moved.recovered == len(history.items("drafts")) + len(history.items("counter")) >= 4
    assert report.as_dict()["ok"] is False
