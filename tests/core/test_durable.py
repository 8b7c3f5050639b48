"""Crash-safe file replacement (xuncha_core.durable), on real files and a real SIGKILL."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xuncha_core import durable

ROOT = Path(__file__).resolve().parents[2]


def test_replace_file_writes_bytes_a_path_or_a_stream_whole(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(3 * durable.BLOCK_SIZE + 17))
    target = tmp_path / "target.bin"

    durable.replace_file(target, b"first")
    assert target.read_bytes() == b"first"
    durable.replace_file(target, source)
    assert target.read_bytes() == source.read_bytes()
    durable.replace_file(target, io.BytesIO(b"from a stream"), sync_folder=False)
    assert target.read_bytes() == b"from a stream"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.bin", "target.bin"]


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "work.json"
    target.write_bytes(b"old")

    class BrokenStream(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            raise OSError("card removed")

    with pytest.raises(OSError, match="card removed"):
        durable.replace_file(target, BrokenStream())
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["work.json"]


def test_create_file_never_replaces_an_existing_file(tmp_path: Path) -> None:
    key = tmp_path / "signing.pem"
    assert durable.create_file(key, b"theirs") is True
    assert key.stat().st_mode & 0o777 == 0o600
    assert durable.create_file(key, b"mine") is False
    assert key.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["signing.pem"]


def test_temp_files_are_named_for_the_start_up_sweep(tmp_path: Path) -> None:
    name = durable.temp_name("2025-04.json")
    assert name.startswith(".2025-04.json.") and name.endswith(".tmp")
    assert durable.is_temp_file(tmp_path / name)
    assert not durable.is_temp_file(tmp_path / "2025-04.json")
    (tmp_path / name).write_bytes(b"{")
    (tmp_path / durable.temp_name("a.jpg", ".part")).write_bytes(b"")
    (tmp_path / "kept.json").write_bytes(b"{}")

    assert durable.remove_temp_files(tmp_path) == [tmp_path / name]
    assert len(durable.remove_temp_files(tmp_path, suffix=".part")) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["kept.json"]
    assert durable.remove_temp_files(tmp_path / "missing") == []


_WRITER = """
import sys
from xuncha_core import durable
target = sys.argv[1]
for n in range(10_000):
    durable.replace_file(target, bytes([n % 251]) * 2_000_000)
    print(n, flush=True)
"""


def test_a_write_killed_at_any_moment_leaves_the_old_or_the_new_content(tmp_path: Path) -> None:
    target = tmp_path / "blob"
    target.write_bytes(b"\xff" * 2_000_000)
    for run in range(8):
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(target)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None
        writer.stdout.readline()  # at least one replacement has finished
        time.sleep(0.003 * run)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        content = target.read_bytes()
        assert len(content) == 2_000_000 and content == content[:1] * 2_000_000, f"run {run}: mixed file"
        durable.remove_temp_files(tmp_path)
        assert [p.name for p in tmp_path.iterdir()] == ["blob"]
